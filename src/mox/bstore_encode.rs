//! Encoding bstore records: the inverse of the decoder, driven by a type's schema (the JSON of a
//! `types` bucket entry, kept verbatim in [`TypeVersion::json`]).
//!
//! A record value is `uvarint(version) fieldmap present-fields…`; the primary key is the bbolt
//! key in `records`; every index gets one key per record (one per element for a slice field):
//! the packed index fields, then the primary key. See FORMAT.md 2c for the byte rules.
//!
//! The schema model is the reader's ([`super::schema`]). [`decode_record`] is here too, on top
//! of the reader's decoder, so that stored records can be changed and written again (the night
//! mutation), and so that encode ∘ decode can be checked byte for byte on real files.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::bbolt_write::BoltBucket;
pub use super::bstore::int64_key;
use super::bstore::{FieldValue, Key, decode_pk};
pub use super::gotime::GoTime;
pub use super::schema::{Field, FieldType, Index, Kind, TypeVersion};

/// A schema error or a value that does not fit its schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bstore type {type_name}: {what}")]
pub struct EncodeError {
    pub type_name: String,
    pub what: String,
}

fn err(type_name: &str, what: impl Into<String>) -> EncodeError {
    EncodeError {
        type_name: type_name.to_string(),
        what: what.into(),
    }
}

/// Parses the `types` value of `type_name` for encoding: as the reader does, and every index
/// must name fields of the type.
pub fn parse_schema(type_name: &str, json: &[u8]) -> Result<TypeVersion, EncodeError> {
    let tv = TypeVersion::parse(type_name, json).map_err(|e| err(type_name, e))?;
    for idx in &tv.indices {
        if let Some(f) = idx.fields.iter().find(|f| tv.field_index(f).is_none()) {
            return Err(err(type_name, format!("index {}: no field {f}", idx.name)));
        }
    }
    Ok(tv)
}

/// A dynamic value of a field. Which encoding applies comes from the schema, not the value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(String),
    /// `[]byte` and binarymarshal data.
    Bytes(Vec<u8>),
    Time(GoTime),
    /// Slice or array elements.
    List(Vec<Value>),
    /// Map entries in stored order.
    Map(Vec<(Value, Value)>),
    Struct(Record),
    /// A non-nil pointer (a nil pointer is an absent field).
    Ptr(Box<Value>),
    /// Nil (slice, map, byte string or pointer) or any zero value: never stored. Decoding
    /// gives it for slice, array and map elements that were not stored (zero).
    Nil,
}

impl Value {
    /// Whether bstore treats the value as zero (absent from the fieldmap). Bools, numbers and
    /// strings are zero at their zero value; slices, maps and byte strings only when nil (here:
    /// absent); structs when every field is zero; arrays when every element is.
    fn is_zero(&self, ty: &FieldType, tv: &TypeVersion) -> bool {
        if matches!(self, Value::Nil) {
            return true;
        }
        if ty.ptr {
            return false;
        }
        match self {
            Value::Bool(b) => !b,
            Value::Int(i) => *i == 0,
            Value::Uint(u) => *u == 0,
            Value::Float(f) => f.to_bits() == 0,
            Value::Str(s) => s.is_empty(),
            Value::Time(t) => t.is_zero(),
            Value::Bytes(_) | Value::Map(_) => false,
            Value::List(items) => {
                ty.kind == Kind::Array
                    && ty
                        .list
                        .as_deref()
                        .is_none_or(|et| items.iter().all(|v| v.is_zero(et, tv)))
            }
            Value::Struct(r) => match tv.structs.get(ty.struct_index) {
                Some(fields) => fields
                    .iter()
                    .all(|f| r.get(&f.name).is_none_or(|v| v.is_zero(&f.ty, tv))),
                None => true,
            },
            Value::Ptr(_) => false,
            Value::Nil => true,
        }
    }
}

/// Field values by name; a field that is missing is zero.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Record {
    pub fields: Vec<(String, Value)>,
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Sets a field (replacing an earlier value of the same name).
    pub fn set(&mut self, name: &str, value: Value) -> &mut Record {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_string(), value)),
        }
        self
    }

    /// Builder form of [`Record::set`].
    pub fn with(mut self, name: &str, value: Value) -> Record {
        self.set(name, value);
        self
    }

    /// Removes a field (makes it zero).
    pub fn clear(&mut self, name: &str) {
        self.fields.retain(|(n, _)| n != name);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// An integer field (0 when absent).
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(Value::Int(i)) => *i,
            Some(Value::Uint(u)) => *u as i64,
            _ => 0,
        }
    }

    /// A bool field (false when absent).
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    /// A string field ("" when absent).
    pub fn str(&self, name: &str) -> &str {
        match self.get(name) {
            Some(Value::Str(s)) => s,
            _ => "",
        }
    }

    /// A slice of strings (empty when absent).
    pub fn strings(&self, name: &str) -> Vec<String> {
        match self.get(name) {
            Some(Value::List(l)) => l
                .iter()
                .filter_map(|v| match v {
                    Value::Str(s) => Some(s.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_varint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// A fieldmap of `n` bits, MSB first.
fn fieldmap(bits: &[bool]) -> Vec<u8> {
    let mut out = vec![0u8; bits.len().div_ceil(8)];
    for (i, b) in bits.iter().enumerate() {
        if *b {
            out[i / 8] |= 1 << (7 - i % 8);
        }
    }
    out
}

/// Encodes the value (without the primary key) of `record` with schema `tv`.
pub fn encode_value(tv: &TypeVersion, record: &Record) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    put_uvarint(&mut out, u64::from(tv.version));
    encode_fields(tv, &tv.fields()[1..], record, &mut out)?;
    Ok(out)
}

fn encode_fields(
    tv: &TypeVersion,
    fields: &[Field],
    record: &Record,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let values: Vec<Option<&Value>> = fields
        .iter()
        .map(|f| record.get(&f.name).filter(|v| !v.is_zero(&f.ty, tv)))
        .collect();
    if let Some((f, _)) = fields
        .iter()
        .zip(&values)
        .find(|(f, v)| f.nonzero && v.is_none())
    {
        return Err(err(
            &tv.type_name,
            format!("field {} must be nonzero", f.name),
        ));
    }
    out.extend(fieldmap(
        &values.iter().map(|v| v.is_some()).collect::<Vec<_>>(),
    ));
    for (f, v) in fields.iter().zip(values) {
        if let Some(v) = v {
            encode_one(tv, &f.name, &f.ty, v, out)?;
        }
    }
    Ok(())
}

fn encode_one(
    tv: &TypeVersion,
    name: &str,
    ty: &FieldType,
    v: &Value,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let v = match (ty.ptr, v) {
        (true, Value::Ptr(inner)) => inner.as_ref(),
        (true, _) => {
            return Err(err(
                &tv.type_name,
                format!("field {name}: expected pointer"),
            ));
        }
        (false, v) => v,
    };
    let mismatch = || {
        err(
            &tv.type_name,
            format!("field {name}: value {v:?} does not fit kind {:?}", ty.kind),
        )
    };
    match (ty.kind, v) {
        (Kind::Bool, Value::Bool(b)) => {
            if ty.ptr {
                out.push(u8::from(*b));
            } else if !b {
                return Err(mismatch());
            }
        }
        (k, Value::Int(i)) if k.is_signed() => {
            if k == Kind::Int && i32::try_from(*i).is_err() {
                return Err(mismatch());
            }
            put_varint(out, *i)
        }
        (k, Value::Uint(u)) if k.is_unsigned() => put_uvarint(out, *u),
        (Kind::Float32, Value::Float(f)) => put_uvarint(out, u64::from((*f as f32).to_bits())),
        (Kind::Float64, Value::Float(f)) => put_uvarint(out, f.to_bits()),
        (Kind::String, Value::Str(s)) => {
            put_uvarint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        (Kind::Bytes | Kind::BinaryMarshal, Value::Bytes(b)) => {
            put_uvarint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
        (Kind::Time, Value::Time(t)) => {
            let b = t.to_binary();
            put_uvarint(out, b.len() as u64);
            out.extend_from_slice(&b);
        }
        (Kind::Slice, Value::List(items)) => {
            let et = ty.list.as_deref().ok_or_else(mismatch)?;
            put_uvarint(out, items.len() as u64);
            encode_list(tv, name, et, items, out)?;
        }
        (Kind::Array, Value::List(items)) => {
            let et = ty.list.as_deref().ok_or_else(mismatch)?;
            if items.len() != ty.array_length {
                return Err(mismatch());
            }
            encode_list(tv, name, et, items, out)?;
        }
        (Kind::Map, Value::Map(entries)) => {
            let kt = ty.map_key.as_deref().ok_or_else(mismatch)?;
            let vt = ty.map_value.as_deref().ok_or_else(mismatch)?;
            put_uvarint(out, entries.len() as u64);
            let present: Vec<bool> = entries.iter().map(|(_, v)| !v.is_zero(vt, tv)).collect();
            out.extend(fieldmap(&present));
            for ((k, v), p) in entries.iter().zip(present) {
                encode_one(tv, name, kt, k, out)?;
                if p {
                    encode_one(tv, name, vt, v, out)?;
                }
            }
        }
        (Kind::Struct, Value::Struct(r)) => {
            let fields = tv.structs.get(ty.struct_index).ok_or_else(mismatch)?;
            encode_fields(tv, fields, r, out)?;
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn encode_list(
    tv: &TypeVersion,
    name: &str,
    et: &FieldType,
    items: &[Value],
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let present: Vec<bool> = items.iter().map(|v| !v.is_zero(et, tv)).collect();
    out.extend(fieldmap(&present));
    for (v, p) in items.iter().zip(present) {
        if p {
            encode_one(tv, name, et, v, out)?;
        }
    }
    Ok(())
}

/// Packs one value as bstore packs it in keys (primary keys with `terminate = false`).
fn pack_key_part(
    tv: &TypeVersion,
    ty: &FieldType,
    v: Option<&Value>,
    terminate: bool,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let bad = || {
        err(
            &tv.type_name,
            format!("cannot pack {v:?} as {:?} key", ty.kind),
        )
    };
    let k = ty.kind;
    if k.is_signed() {
        let i = match v {
            None => 0,
            Some(Value::Int(i)) => *i,
            _ => return Err(bad()),
        };
        let w = k.key_width();
        let flipped = (i as u64) ^ (1u64 << (w * 8 - 1));
        out.extend_from_slice(&flipped.to_be_bytes()[8 - w..]);
    } else if k.is_unsigned() {
        let u = match v {
            None => 0,
            Some(Value::Uint(u)) => *u,
            _ => return Err(bad()),
        };
        out.extend_from_slice(&u.to_be_bytes()[8 - k.key_width()..]);
    } else {
        match (k, v) {
            (Kind::Bool, None) => out.push(0),
            (Kind::Bool, Some(Value::Bool(b))) => out.push(u8::from(*b)),
            (Kind::String, None) => {}
            (Kind::String, Some(Value::Str(s))) => out.extend_from_slice(s.as_bytes()),
            (Kind::Bytes, None) => {}
            (Kind::Bytes, Some(Value::Bytes(b))) => out.extend_from_slice(b),
            (Kind::Time, t) => {
                let t = match t {
                    None => GoTime::ZERO,
                    Some(Value::Time(t)) => *t,
                    _ => return Err(bad()),
                };
                out.extend_from_slice(&((t.unix as u64) ^ (1 << 63)).to_be_bytes());
                out.extend_from_slice(&t.nanos.to_be_bytes());
            }
            _ => return Err(bad()),
        }
        if terminate && matches!(k, Kind::String) {
            out.push(0);
        }
    }
    Ok(())
}

/// The primary key bytes of `record` (its first field).
pub fn primary_key(tv: &TypeVersion, record: &Record) -> Result<Vec<u8>, EncodeError> {
    let f = &tv.fields()[0];
    let mut out = Vec::with_capacity(8);
    pack_key_part(tv, &f.ty, record.get(&f.name), false, &mut out)?;
    Ok(out)
}

/// The keys of `record` in index `idx` (one per element when the index has a slice field).
pub fn index_keys(
    tv: &TypeVersion,
    idx: &Index,
    record: &Record,
    pk: &[u8],
) -> Result<Vec<Vec<u8>>, EncodeError> {
    let mut keys = vec![Vec::new()];
    for name in &idx.fields {
        let f = tv
            .fields()
            .iter()
            .find(|f| &f.name == name)
            .ok_or_else(|| {
                err(
                    &tv.type_name,
                    format!("index {}: no field {name}", idx.name),
                )
            })?;
        if f.ty.kind == Kind::Slice {
            let et =
                f.ty.list
                    .as_deref()
                    .ok_or_else(|| err(&tv.type_name, "slice"))?;
            let items: &[Value] = match record.get(&f.name) {
                Some(Value::List(items)) => items,
                _ => &[],
            };
            let mut next = Vec::new();
            for k in &keys {
                // Duplicate elements give one key, as a set would.
                let mut seen = BTreeSet::new();
                for item in items {
                    let mut key = k.clone();
                    pack_key_part(tv, et, Some(item), true, &mut key)?;
                    if seen.insert(key.clone()) {
                        next.push(key);
                    }
                }
            }
            keys = next;
        } else {
            for k in &mut keys {
                pack_key_part(tv, &f.ty, record.get(&f.name), true, k)?;
            }
        }
    }
    for k in &mut keys {
        k.extend_from_slice(pk);
    }
    Ok(keys)
}

/// The records of one type, ready to be laid out as its bucket.
#[derive(Debug, Clone)]
pub struct TypeData {
    pub schema: Arc<TypeVersion>,
    /// Primary key → encoded value.
    pub records: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Per index (same order as `schema.indices`), its keys.
    pub index_keys: Vec<BTreeSet<Vec<u8>>>,
    /// The `records` bucket sequence (last assigned id).
    pub sequence: u64,
}

impl TypeData {
    pub fn new(schema: Arc<TypeVersion>) -> TypeData {
        let n = schema.indices.len();
        TypeData {
            schema,
            records: BTreeMap::new(),
            index_keys: vec![BTreeSet::new(); n],
            sequence: 0,
        }
    }

    /// Inserts (or replaces) a record: value, index keys and, for integer ids, the sequence.
    pub fn insert(&mut self, record: &Record) -> Result<Vec<u8>, EncodeError> {
        let tv = self.schema.clone();
        let pk = primary_key(&tv, record)?;
        if self.records.contains_key(&pk) {
            self.remove(&pk)?;
        }
        let value = encode_value(&tv, record)?;
        for (i, idx) in tv.indices.iter().enumerate() {
            for key in index_keys(&tv, idx, record, &pk)? {
                self.index_keys[i].insert(key);
            }
        }
        let pk_name = &tv.fields()[0].name;
        if let Some(Value::Int(id)) = record.get(pk_name) {
            self.sequence = self.sequence.max(*id as u64);
        } else if let Some(Value::Uint(id)) = record.get(pk_name) {
            self.sequence = self.sequence.max(*id);
        }
        self.records.insert(pk.clone(), value);
        Ok(pk)
    }

    /// Removes the record with primary key `pk` and its index keys.
    pub fn remove(&mut self, pk: &[u8]) -> Result<Option<Record>, EncodeError> {
        let Some(value) = self.records.remove(pk) else {
            return Ok(None);
        };
        let tv = self.schema.clone();
        let record = decode_record(&tv, pk, &value)?;
        for (i, idx) in tv.indices.iter().enumerate() {
            for key in index_keys(&tv, idx, &record, pk)? {
                self.index_keys[i].remove(&key);
            }
        }
        Ok(Some(record))
    }

    /// The decoded record with primary key `pk`.
    pub fn get(&self, pk: &[u8]) -> Result<Option<Record>, EncodeError> {
        self.records
            .get(pk)
            .map(|v| decode_record(&self.schema, pk, v))
            .transpose()
    }

    /// The bucket of this type: `records`, `types` and one `index.<name>` per index.
    pub fn to_bucket(&self) -> BoltBucket {
        let mut b = BoltBucket::new();
        let records = b.bucket_mut(b"records");
        records.sequence = self.sequence;
        for (k, v) in &self.records {
            records.put(k.clone(), v.clone());
        }
        b.bucket_mut(b"types").put(
            self.schema.version.to_be_bytes().to_vec(),
            self.schema.json.clone(),
        );
        for (idx, keys) in self.schema.indices.iter().zip(&self.index_keys) {
            let ib = b.bucket_mut(format!("index.{}", idx.name).as_bytes());
            for k in keys {
                ib.put(k.clone(), Vec::new());
            }
        }
        b
    }
}

/// A whole bstore database under construction: one [`TypeData`] per type.
#[derive(Debug, Clone, Default)]
pub struct StoreData {
    pub types: BTreeMap<String, TypeData>,
}

impl StoreData {
    /// A database with the given types (`name<TAB>schema JSON` lines) and no records.
    pub fn from_schema_lines(lines: &str) -> Result<StoreData, EncodeError> {
        let mut types = BTreeMap::new();
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            let (name, json) = line
                .split_once('\t')
                .ok_or_else(|| err(line, "schema line without a tab"))?;
            let tv = parse_schema(name, json.as_bytes())?;
            types.insert(name.to_string(), TypeData::new(Arc::new(tv)));
        }
        Ok(StoreData { types })
    }

    /// A database read back from its bucket tree (as [`BoltBucket::load`] gives it). The
    /// newest schema version of each type is used; records keep their bytes until changed.
    pub fn from_bucket(root: &BoltBucket) -> Result<StoreData, EncodeError> {
        let mut types = BTreeMap::new();
        for (name, entry) in &root.entries {
            let name = String::from_utf8_lossy(name).to_string();
            let super::bbolt_write::BoltEntry::Bucket(b) = entry else {
                continue;
            };
            let (version, json) = b
                .bucket(b"types")
                .and_then(|t| t.entries.iter().next_back())
                .and_then(|(k, v)| match v {
                    super::bbolt_write::BoltEntry::Value(v) => Some((k, v)),
                    _ => None,
                })
                .ok_or_else(|| err(&name, "no schema in the types bucket"))?;
            let tv = parse_schema(&name, json)?;
            if version.as_slice() != tv.version.to_be_bytes() {
                return Err(err(&name, "types key does not match the schema version"));
            }
            let mut td = TypeData::new(Arc::new(tv));
            if let Some(records) = b.bucket(b"records") {
                td.sequence = records.sequence;
                for (k, v) in &records.entries {
                    if let super::bbolt_write::BoltEntry::Value(v) = v {
                        td.records.insert(k.clone(), v.clone());
                    }
                }
            }
            for (i, idx) in td.schema.clone().indices.iter().enumerate() {
                if let Some(ib) = b.bucket(format!("index.{}", idx.name).as_bytes()) {
                    td.index_keys[i] = ib.entries.keys().cloned().collect();
                }
            }
            types.insert(name, td);
        }
        Ok(StoreData { types })
    }

    /// The records of `type_name`.
    pub fn type_mut(&mut self, type_name: &str) -> Result<&mut TypeData, EncodeError> {
        self.types
            .get_mut(type_name)
            .ok_or_else(|| err(type_name, "no such type in this database"))
    }

    pub fn type_data(&self, type_name: &str) -> Result<&TypeData, EncodeError> {
        self.types
            .get(type_name)
            .ok_or_else(|| err(type_name, "no such type in this database"))
    }

    /// Inserts a record of `type_name`; returns its primary key.
    pub fn insert(&mut self, type_name: &str, record: &Record) -> Result<Vec<u8>, EncodeError> {
        self.type_mut(type_name)?.insert(record)
    }

    /// The root bucket of the database.
    pub fn to_bucket(&self) -> BoltBucket {
        let mut root = BoltBucket::new();
        for (name, t) in &self.types {
            *root.bucket_mut(name.as_bytes()) = t.to_bucket();
        }
        root
    }
}

// ---- decoding: the reader's decoder, its values turned into the editable model ----

/// Decodes a stored record (value bytes, with its primary key) by schema `tv`, which must be
/// the record's own version.
pub fn decode_record(tv: &TypeVersion, pk: &[u8], value: &[u8]) -> Result<Record, EncodeError> {
    let fields = super::bstore::decode_version(tv, value)
        .map_err(|e| err(&tv.type_name, format!("decoding: {e}")))?;
    let pkf = &tv.fields()[0];
    let key = decode_pk(&pkf.ty, pk)
        .map_err(|e| err(&tv.type_name, format!("bad primary key {pk:02x?}: {e}")))?;
    let mut record = Record::from_fields(tv, &tv.fields()[1..], &fields)?;
    record.fields.insert(
        0,
        (
            pkf.name.clone(),
            match key {
                Key::Int(i) => Value::Int(i),
                Key::Uint(u) => Value::Uint(u),
                Key::Bool(b) => Value::Bool(b),
                Key::String(s) => Value::Str(s),
                Key::Bytes(b) => Value::Bytes(b),
            },
        ),
    );
    Ok(record)
}

impl Value {
    /// The value a decoded [`FieldValue`] of type `ty` stands for ([`Value::Nil`] for zero).
    pub fn from_field(
        tv: &TypeVersion,
        ty: &FieldType,
        v: &FieldValue,
    ) -> Result<Value, EncodeError> {
        let inner = match v {
            FieldValue::Zero => return Ok(Value::Nil),
            FieldValue::Bool(b) => Value::Bool(*b),
            FieldValue::Int(i) => Value::Int(*i),
            FieldValue::Uint(u) => Value::Uint(*u),
            FieldValue::Float(f) => Value::Float(*f),
            FieldValue::String(s) => Value::Str(s.clone()),
            FieldValue::Bytes(b) | FieldValue::BinaryMarshal(b) => Value::Bytes(b.clone()),
            FieldValue::Time(b) => Value::Time(
                GoTime::from_binary(b).ok_or_else(|| err(&tv.type_name, "decoding: bad time"))?,
            ),
            FieldValue::List(items) => {
                let et = ty
                    .list
                    .as_deref()
                    .ok_or_else(|| err(&tv.type_name, "decoding: list type"))?;
                Value::List(
                    items
                        .iter()
                        .map(|i| Value::from_field(tv, et, i))
                        .collect::<Result<_, _>>()?,
                )
            }
            FieldValue::Map(entries) => {
                let (Some(kt), Some(vt)) = (ty.map_key.as_deref(), ty.map_value.as_deref()) else {
                    return Err(err(&tv.type_name, "decoding: map type"));
                };
                Value::Map(
                    entries
                        .iter()
                        .map(|(k, v)| {
                            Ok((Value::from_field(tv, kt, k)?, Value::from_field(tv, vt, v)?))
                        })
                        .collect::<Result<_, EncodeError>>()?,
                )
            }
            FieldValue::Struct(fields) => {
                let defs = tv
                    .structs
                    .get(ty.struct_index)
                    .ok_or_else(|| err(&tv.type_name, "decoding: unknown struct"))?;
                Value::Struct(Record::from_fields(tv, defs, fields)?)
            }
        };
        Ok(if ty.ptr {
            Value::Ptr(Box::new(inner))
        } else {
            inner
        })
    }
}

impl Record {
    /// The record decoded fields (of the struct whose fields are `defs`) stand for; zero
    /// fields are left out.
    pub fn from_fields(
        tv: &TypeVersion,
        defs: &[Field],
        fields: &[(String, FieldValue)],
    ) -> Result<Record, EncodeError> {
        let mut r = Record::new();
        for (name, v) in fields {
            if matches!(v, FieldValue::Zero) {
                continue;
            }
            let def = defs
                .iter()
                .find(|f| &f.name == name)
                .ok_or_else(|| err(&tv.type_name, format!("decoding: no field {name}")))?;
            r.fields
                .push((name.clone(), Value::from_field(tv, &def.ty, v)?));
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYNC: &str = r#"{"Version":1,"OndiskVersion":2,"Noauto":false,"Fields":[{"Name":"ID","Type":{"Kind":"int"}},{"Name":"LastModSeq","Type":{"Kind":"int64"},"Nonzero":true},{"Name":"HighestDeletedModSeq","Type":{"Kind":"int64"}}],"Indices":{},"ReferencedBy":{}}"#;

    #[test]
    fn sync_state_matches_the_worked_example() {
        let tv = TypeVersion::parse("SyncState", SYNC).unwrap();
        let r = Record::new()
            .with("ID", Value::Int(1))
            .with("LastModSeq", Value::Int(165))
            .with("HighestDeletedModSeq", Value::Int(-1));
        assert_eq!(primary_key(&tv, &r).unwrap(), vec![0x80, 0, 0, 1]);
        let v = encode_value(&tv, &r).unwrap();
        assert_eq!(v, vec![0x01, 0xc0, 0xca, 0x02, 0x01]);
        assert_eq!(decode_record(&tv, &[0x80, 0, 0, 1], &v).unwrap(), r);
    }

    #[test]
    fn zero_nonzero_field_is_refused() {
        let tv = TypeVersion::parse("SyncState", SYNC).unwrap();
        let r = Record::new().with("ID", Value::Int(1));
        let e = encode_value(&tv, &r).unwrap_err();
        assert!(e.to_string().contains("LastModSeq"), "{e}");
    }
}
