//! Encoding bstore records: the inverse of the decoder, driven by a type's schema (the JSON of a
//! `types` bucket entry, kept verbatim).
//!
//! A record value is `uvarint(version) fieldmap present-fields…`; the primary key is the bbolt
//! key in `records`; every index gets one key per record (one per element for a slice field):
//! the packed index fields, then the primary key. See FORMAT.md 2c for the byte rules.
//!
//! [`decode_record`] is here too so that stored records can be changed and written again (the
//! night mutation), and so that encode ∘ decode can be checked byte for byte on real files.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::bbolt_write::BoltBucket;

/// Seconds from 0001-01-01 to 1970-01-01 (Go's `time` epoch offset).
const UNIX_TO_INTERNAL: i64 = 62_135_596_800;

/// The kinds bstore knows, in the order of their OndiskVersion 1 numbering (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Bytes,
    Bool,
    Int,
    Int8,
    Int16,
    Int32,
    Int64,
    Uint,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Float32,
    Float64,
    Map,
    Slice,
    String,
    Time,
    BinaryMarshal,
    Struct,
    Array,
}

const KINDS: [(&str, Kind); 21] = [
    ("bytes", Kind::Bytes),
    ("bool", Kind::Bool),
    ("int", Kind::Int),
    ("int8", Kind::Int8),
    ("int16", Kind::Int16),
    ("int32", Kind::Int32),
    ("int64", Kind::Int64),
    ("uint", Kind::Uint),
    ("uint8", Kind::Uint8),
    ("uint16", Kind::Uint16),
    ("uint32", Kind::Uint32),
    ("uint64", Kind::Uint64),
    ("float32", Kind::Float32),
    ("float64", Kind::Float64),
    ("map", Kind::Map),
    ("slice", Kind::Slice),
    ("string", Kind::String),
    ("time", Kind::Time),
    ("binarymarshal", Kind::BinaryMarshal),
    ("struct", Kind::Struct),
    ("array", Kind::Array),
];

impl Kind {
    fn signed(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64
        )
    }
    fn unsigned(self) -> bool {
        matches!(
            self,
            Kind::Uint | Kind::Uint8 | Kind::Uint16 | Kind::Uint32 | Kind::Uint64
        )
    }
    /// Width in bytes of an integer in keys (Go `int`/`uint` are stored as 32 bits).
    fn key_width(self) -> usize {
        match self {
            Kind::Int8 | Kind::Uint8 => 1,
            Kind::Int16 | Kind::Uint16 => 2,
            Kind::Int | Kind::Int32 | Kind::Uint | Kind::Uint32 => 4,
            _ => 8,
        }
    }
}

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

/// The type of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldType {
    pub ptr: bool,
    pub kind: Kind,
    /// Element type of a slice or array.
    pub list: Option<Box<FieldType>>,
    pub array_length: usize,
    pub map_key: Option<Box<FieldType>>,
    pub map_value: Option<Box<FieldType>>,
    /// For a struct: the sequence number of its field list in [`TypeVersion::structs`].
    pub struct_seq: i64,
}

/// A named field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    /// bstore refuses to store the record when this field is zero.
    pub nonzero: bool,
}

/// An index: name (bucket `index.<name>`) and positions of its fields in the top-level fields.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDef {
    pub name: String,
    pub unique: bool,
    pub fields: Vec<usize>,
}

/// One version of a type: the parsed schema plus the exact JSON it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeVersion {
    pub type_name: String,
    pub version: u32,
    /// The JSON as stored in the `types` bucket, byte for byte.
    pub json: String,
    pub fields: Vec<Field>,
    pub indices: Vec<IndexDef>,
    /// Field lists of struct types by sequence number; 1 is the top-level type.
    pub structs: HashMap<i64, Arc<Vec<Field>>>,
}

impl TypeVersion {
    /// Parses a `types` bucket value.
    pub fn parse(type_name: &str, json: &str) -> Result<TypeVersion, EncodeError> {
        let v: serde_json::Value =
            serde_json::from_str(json).map_err(|e| err(type_name, format!("schema JSON: {e}")))?;
        let version = v["Version"]
            .as_u64()
            .ok_or_else(|| err(type_name, "schema without Version"))? as u32;
        let mut structs = HashMap::new();
        let fields = parse_fields(type_name, &v["Fields"], &mut structs)?;
        if fields.is_empty() {
            return Err(err(type_name, "schema without fields"));
        }
        structs.insert(1, Arc::new(fields.clone()));
        let mut indices = Vec::new();
        if let Some(map) = v["Indices"].as_object() {
            for (name, idx) in map {
                let mut pos = Vec::new();
                for f in idx["Fields"].as_array().into_iter().flatten() {
                    let fname = f["Name"].as_str().unwrap_or_default();
                    let p = fields
                        .iter()
                        .position(|x| x.name == fname)
                        .ok_or_else(|| err(type_name, format!("index {name}: no field {fname}")))?;
                    pos.push(p);
                }
                indices.push(IndexDef {
                    name: name.clone(),
                    unique: idx["Unique"].as_bool().unwrap_or(false),
                    fields: pos,
                });
            }
        }
        Ok(TypeVersion {
            type_name: type_name.to_string(),
            version,
            json: json.to_string(),
            fields,
            indices,
            structs,
        })
    }

    /// The position of field `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

fn parse_fields(
    type_name: &str,
    v: &serde_json::Value,
    structs: &mut HashMap<i64, Arc<Vec<Field>>>,
) -> Result<Vec<Field>, EncodeError> {
    let mut out = Vec::new();
    for f in v.as_array().into_iter().flatten() {
        let name = f["Name"]
            .as_str()
            .ok_or_else(|| err(type_name, "field without name"))?
            .to_string();
        let ty = parse_type(type_name, &f["Type"], structs)?;
        let nonzero = f["Nonzero"].as_bool().unwrap_or(false);
        out.push(Field { name, ty, nonzero });
    }
    Ok(out)
}

fn parse_type(
    type_name: &str,
    v: &serde_json::Value,
    structs: &mut HashMap<i64, Arc<Vec<Field>>>,
) -> Result<FieldType, EncodeError> {
    let kind = match &v["Kind"] {
        serde_json::Value::String(s) => KINDS.iter().find(|(n, _)| n == s).map(|(_, k)| *k),
        serde_json::Value::Number(n) => n
            .as_u64()
            .and_then(|i| KINDS.get((i as usize).wrapping_sub(1)))
            .map(|(_, k)| *k),
        _ => None,
    }
    .ok_or_else(|| err(type_name, format!("unknown kind {}", v["Kind"])))?;
    let sub = |key: &str,
               structs: &mut HashMap<i64, Arc<Vec<Field>>>|
     -> Result<Option<Box<FieldType>>, EncodeError> {
        match v.get(key) {
            Some(t) if !t.is_null() => Ok(Some(Box::new(parse_type(type_name, t, structs)?))),
            _ => Ok(None),
        }
    };
    let list = sub("List", structs)?;
    let map_key = sub("MapKey", structs)?;
    let map_value = sub("MapValue", structs)?;
    let mut struct_seq = 0;
    if kind == Kind::Struct {
        let seq = v["FieldsTypeSeq"].as_i64().unwrap_or(0);
        if seq < 0 {
            struct_seq = -seq;
        } else {
            let fields = parse_fields(type_name, &v["Fields"], structs)?;
            // OndiskVersion 1 has no sequence numbers: give each struct one of its own.
            struct_seq = if seq > 0 {
                seq
            } else {
                1000 + structs.len() as i64
            };
            structs.insert(struct_seq, Arc::new(fields));
        }
    }
    Ok(FieldType {
        ptr: v["Ptr"].as_bool().unwrap_or(false),
        kind,
        list,
        array_length: v["ArrayLength"].as_u64().unwrap_or(0) as usize,
        map_key,
        map_value,
        struct_seq,
    })
}

/// A Go `time.Time` as bstore stores it (MarshalBinary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GoTime {
    /// Seconds since 1970-01-01 UTC.
    pub unix: i64,
    pub nanos: u32,
    /// Zone offset in minutes east of UTC; −1 means the UTC location.
    pub offset_min: i16,
    /// Extra offset seconds (MarshalBinary version 2 only).
    pub offset_sec: i8,
}

impl GoTime {
    /// A UTC time.
    pub fn utc(unix: i64, nanos: u32) -> GoTime {
        GoTime {
            unix,
            nanos,
            offset_min: -1,
            offset_sec: 0,
        }
    }

    /// The MarshalBinary bytes.
    pub fn to_binary(self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        out.push(if self.offset_sec != 0 { 2 } else { 1 });
        out.extend_from_slice(&(self.unix + UNIX_TO_INTERNAL).to_be_bytes());
        out.extend_from_slice(&(self.nanos as i32).to_be_bytes());
        out.extend_from_slice(&self.offset_min.to_be_bytes());
        if self.offset_sec != 0 {
            out.push(self.offset_sec as u8);
        }
        out
    }

    /// Parses MarshalBinary bytes (version 1 or 2).
    pub fn from_binary(b: &[u8]) -> Option<GoTime> {
        let (version, len) = match b.first()? {
            1 => (1, 15),
            2 => (2, 16),
            _ => return None,
        };
        if b.len() != len {
            return None;
        }
        let secs = i64::from_be_bytes(b[1..9].try_into().ok()?);
        let nanos = i32::from_be_bytes(b[9..13].try_into().ok()?);
        let offset_min = i16::from_be_bytes(b[13..15].try_into().ok()?);
        Some(GoTime {
            unix: secs - UNIX_TO_INTERNAL,
            nanos: nanos as u32,
            offset_min,
            offset_sec: if version == 2 { b[15] as i8 } else { 0 },
        })
    }

    fn is_zero(self) -> bool {
        self.unix == -UNIX_TO_INTERNAL && self.nanos == 0
    }
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
            Value::Struct(r) => match tv.structs.get(&ty.struct_seq) {
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
    encode_fields(tv, &tv.fields[1..], record, &mut out)?;
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
        (k, Value::Int(i)) if k.signed() => {
            if k == Kind::Int && i32::try_from(*i).is_err() {
                return Err(mismatch());
            }
            put_varint(out, *i)
        }
        (k, Value::Uint(u)) if k.unsigned() => put_uvarint(out, *u),
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
            let fields = tv.structs.get(&ty.struct_seq).ok_or_else(mismatch)?.clone();
            encode_fields(tv, &fields, r, out)?;
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
    if k.signed() {
        let i = match v {
            None => 0,
            Some(Value::Int(i)) => *i,
            _ => return Err(bad()),
        };
        let w = k.key_width();
        let flipped = (i as u64) ^ (1u64 << (w * 8 - 1));
        out.extend_from_slice(&flipped.to_be_bytes()[8 - w..]);
    } else if k.unsigned() {
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
                    None => GoTime::utc(-UNIX_TO_INTERNAL, 0),
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
    let f = &tv.fields[0];
    let mut out = Vec::with_capacity(8);
    pack_key_part(tv, &f.ty, record.get(&f.name), false, &mut out)?;
    Ok(out)
}

/// The keys of `record` in index `idx` (one per element when the index has a slice field).
pub fn index_keys(
    tv: &TypeVersion,
    idx: &IndexDef,
    record: &Record,
    pk: &[u8],
) -> Result<Vec<Vec<u8>>, EncodeError> {
    let mut keys = vec![Vec::new()];
    for &fi in &idx.fields {
        let f = &tv.fields[fi];
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
        if let Some(Value::Int(id)) = record.get(&tv.fields[0].name) {
            self.sequence = self.sequence.max(*id as u64);
        } else if let Some(Value::Uint(id)) = record.get(&tv.fields[0].name) {
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
            self.schema.json.as_bytes().to_vec(),
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
            let tv = TypeVersion::parse(name, json)?;
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
            let json = std::str::from_utf8(json).map_err(|_| err(&name, "schema not UTF-8"))?;
            let tv = TypeVersion::parse(&name, json)?;
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

/// Primary key of an int64 id (sign-flipped big-endian).
pub fn int64_key(id: i64) -> Vec<u8> {
    ((id as u64) ^ (1 << 63)).to_be_bytes().to_vec()
}

// ---- decoding (the inverse, for records we wrote or read from a file) ----

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    tv: &'a TypeVersion,
}

impl Reader<'_> {
    fn fail(&self, what: &str) -> EncodeError {
        err(
            &self.tv.type_name,
            format!("decoding: {what} at byte {}", self.pos),
        )
    }
    fn byte(&mut self) -> Result<u8, EncodeError> {
        let b = *self.b.get(self.pos).ok_or_else(|| self.fail("truncated"))?;
        self.pos += 1;
        Ok(b)
    }
    fn uvarint(&mut self) -> Result<u64, EncodeError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            if shift == 63 && b > 1 {
                return Err(self.fail("varint overflow"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.fail("varint too long"))
    }
    fn varint(&mut self) -> Result<i64, EncodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
    fn take(&mut self, n: usize) -> Result<&[u8], EncodeError> {
        if self.b.len() - self.pos < n {
            return Err(self.fail("truncated"));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn bytes(&mut self) -> Result<Vec<u8>, EncodeError> {
        let n = self.uvarint()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn fieldmap(&mut self, n: usize) -> Result<Vec<bool>, EncodeError> {
        let bytes = self.take(n.div_ceil(8))?.to_vec();
        Ok((0..n)
            .map(|i| bytes[i / 8] & (1 << (7 - i % 8)) != 0)
            .collect())
    }
    fn fields(&mut self, fields: &[Field]) -> Result<Record, EncodeError> {
        let present = self.fieldmap(fields.len())?;
        let mut r = Record::new();
        for (f, p) in fields.iter().zip(present) {
            if p {
                let v = self.one(&f.ty)?;
                r.fields.push((f.name.clone(), v));
            }
        }
        Ok(r)
    }
    fn one(&mut self, ty: &FieldType) -> Result<Value, EncodeError> {
        let v = match ty.kind {
            Kind::Bool => Value::Bool(if ty.ptr { self.byte()? != 0 } else { true }),
            k if k.signed() => Value::Int(self.varint()?),
            k if k.unsigned() => Value::Uint(self.uvarint()?),
            Kind::Float32 => Value::Float(f64::from(f32::from_bits(self.uvarint()? as u32))),
            Kind::Float64 => Value::Float(f64::from_bits(self.uvarint()?)),
            Kind::String => Value::Str(
                String::from_utf8(self.bytes()?).map_err(|_| self.fail("invalid UTF-8"))?,
            ),
            Kind::Bytes | Kind::BinaryMarshal => Value::Bytes(self.bytes()?),
            Kind::Time => {
                let b = self.bytes()?;
                Value::Time(GoTime::from_binary(&b).ok_or_else(|| self.fail("bad time"))?)
            }
            Kind::Slice | Kind::Array => {
                let et = ty.list.as_deref().ok_or_else(|| self.fail("list type"))?;
                let n = if ty.kind == Kind::Slice {
                    self.uvarint()? as usize
                } else {
                    ty.array_length
                };
                if n > self.b.len() * 8 + 8 {
                    return Err(self.fail("list too long"));
                }
                let present = self.fieldmap(n)?;
                let mut items = Vec::with_capacity(n);
                for p in present {
                    items.push(if p { self.one(et)? } else { Value::Nil });
                }
                Value::List(items)
            }
            Kind::Map => {
                let kt = ty.map_key.as_deref().ok_or_else(|| self.fail("map type"))?;
                let vt = ty
                    .map_value
                    .as_deref()
                    .ok_or_else(|| self.fail("map type"))?;
                let n = self.uvarint()? as usize;
                if n > self.b.len() * 8 + 8 {
                    return Err(self.fail("map too long"));
                }
                let present = self.fieldmap(n)?;
                let mut entries = Vec::with_capacity(n);
                for p in present {
                    let k = self.one(kt)?;
                    let v = if p { self.one(vt)? } else { Value::Nil };
                    entries.push((k, v));
                }
                Value::Map(entries)
            }
            Kind::Struct => {
                let fields = self
                    .tv
                    .structs
                    .get(&ty.struct_seq)
                    .ok_or_else(|| self.fail("unknown struct"))?
                    .clone();
                Value::Struct(self.fields(&fields)?)
            }
            _ => return Err(self.fail("kind")),
        };
        Ok(if ty.ptr { Value::Ptr(Box::new(v)) } else { v })
    }
}

/// Decodes a stored record (value bytes, with its primary key) by schema `tv`.
pub fn decode_record(tv: &TypeVersion, pk: &[u8], value: &[u8]) -> Result<Record, EncodeError> {
    let mut r = Reader {
        b: value,
        pos: 0,
        tv,
    };
    let version = r.uvarint()?;
    if version != u64::from(tv.version) {
        return Err(r.fail(&format!(
            "record of version {version}, schema is {}",
            tv.version
        )));
    }
    let mut record = r.fields(&tv.fields[1..])?;
    if r.pos != value.len() {
        return Err(r.fail("bytes left over"));
    }
    let pkf = &tv.fields[0];
    let pkv = decode_pk(tv, &pkf.ty, pk)?;
    record.fields.insert(0, (pkf.name.clone(), pkv));
    Ok(record)
}

fn decode_pk(tv: &TypeVersion, ty: &FieldType, pk: &[u8]) -> Result<Value, EncodeError> {
    let k = ty.kind;
    let bad = || err(&tv.type_name, format!("bad primary key {pk:02x?}"));
    if k.signed() || k.unsigned() {
        let w = k.key_width();
        if pk.len() != w {
            return Err(bad());
        }
        let mut b = [0u8; 8];
        b[8 - w..].copy_from_slice(pk);
        let u = u64::from_be_bytes(b);
        if k.unsigned() {
            return Ok(Value::Uint(u));
        }
        let flipped = u ^ (1u64 << (w * 8 - 1));
        // Sign-extend from w bytes.
        let shift = 64 - w * 8;
        return Ok(Value::Int(((flipped << shift) as i64) >> shift));
    }
    match k {
        Kind::String => Ok(Value::Str(
            String::from_utf8(pk.to_vec()).map_err(|_| bad())?,
        )),
        Kind::Bytes => Ok(Value::Bytes(pk.to_vec())),
        Kind::Bool if pk.len() == 1 => Ok(Value::Bool(pk[0] != 0)),
        _ => Err(bad()),
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

    #[test]
    fn time_binary_round_trips() {
        let t = GoTime::utc(1_795_020_326, 512_954_388);
        let b = t.to_binary();
        assert_eq!(b.len(), 15);
        assert_eq!(GoTime::from_binary(&b), Some(t));
    }

    #[test]
    fn negative_int_keys_sort_before_positive() {
        assert!(int64_key(-5) < int64_key(0));
        assert!(int64_key(0) < int64_key(1));
        assert_eq!(int64_key(1), vec![0x80, 0, 0, 0, 0, 0, 0, 1]);
    }
}
