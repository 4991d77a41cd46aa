//! Decoding bstore records (github.com/mjl-/bstore, as used by mox) from a [`Bolt`] file.
//!
//! Each type is a top-level bucket with sub-buckets `records` (primary key → value), `types`
//! (schema versions as JSON, see [`super::schema`]) and `index.<name>`. A value is a uvarint
//! schema version, a fieldmap (one bit per non-primary-key field, MSB first, set = present),
//! then the present fields: zig-zag varints for signed ints, uvarints for unsigned ints and float
//! bits, length-prefixed bytes for strings, bytes, time and binarymarshal, nothing for a plain
//! bool, one byte for a `*bool`, and nested fieldmaps for structs, slices, arrays and maps.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use super::MoxError;
use super::bbolt::{Bolt, Bucket, Iter as BucketIter, Value};
use super::schema::{Field, FieldType, Kind, TypeVersion};

/// Nesting of values deeper than this is refused.
const MAX_VALUE_DEPTH: usize = 64;

/// A decoded field value. Absent (zero) values are [`FieldValue::Zero`].
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// The field was not stored: the zero value of its type (nil for pointers and slices).
    Zero,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    String(String),
    Bytes(Vec<u8>),
    /// Go `time.Time` in its `MarshalBinary` form; see [`super::time_unix_nanos`].
    Time(Vec<u8>),
    BinaryMarshal(Vec<u8>),
    /// A slice or array.
    List(Vec<FieldValue>),
    Map(Vec<(FieldValue, FieldValue)>),
    Struct(Vec<(String, FieldValue)>),
}

impl FieldValue {
    /// Signed value of an integer (unsigned ones converted when they fit); 0 otherwise.
    pub fn as_i64(&self) -> i64 {
        match self {
            FieldValue::Int(v) => *v,
            FieldValue::Uint(v) => i64::try_from(*v).unwrap_or(0),
            _ => 0,
        }
    }

    /// Unsigned value of an integer (non-negative signed ones converted); 0 otherwise.
    pub fn as_u64(&self) -> u64 {
        match self {
            FieldValue::Uint(v) => *v,
            FieldValue::Int(v) => u64::try_from(*v).unwrap_or(0),
            _ => 0,
        }
    }

    pub fn as_bool(&self) -> bool {
        matches!(self, FieldValue::Bool(true))
    }

    pub fn as_str(&self) -> &str {
        match self {
            FieldValue::String(s) => s,
            _ => "",
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        match self {
            FieldValue::String(s) => s.as_bytes(),
            FieldValue::Bytes(b) | FieldValue::Time(b) | FieldValue::BinaryMarshal(b) => b,
            _ => &[],
        }
    }

    /// The elements of a slice or array; empty otherwise.
    pub fn as_list(&self) -> &[FieldValue] {
        match self {
            FieldValue::List(l) => l,
            _ => &[],
        }
    }

    /// A field of a struct value.
    pub fn field(&self, name: &str) -> &FieldValue {
        match self {
            FieldValue::Struct(fs) => fs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v)
                .unwrap_or(&FieldValue::Zero),
            _ => &FieldValue::Zero,
        }
    }
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Uint(u64),
    Bool(bool),
    String(String),
    Bytes(Vec<u8>),
}

impl Key {
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Key::Int(v) => Some(*v),
            Key::Uint(v) => i64::try_from(*v).ok(),
            _ => None,
        }
    }
}

/// A decoded record: its schema version and every field of the type's newest version that the
/// record carries (primary key excluded), in field order. Absent fields read as zero.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub version: u32,
    pub fields: Vec<(String, FieldValue)>,
}

impl Record {
    /// The value of field `name` ([`FieldValue::Zero`] if absent).
    pub fn get(&self, name: &str) -> &FieldValue {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .unwrap_or(&FieldValue::Zero)
    }

    pub fn i64(&self, name: &str) -> i64 {
        self.get(name).as_i64()
    }

    pub fn u64(&self, name: &str) -> u64 {
        self.get(name).as_u64()
    }

    pub fn bool(&self, name: &str) -> bool {
        self.get(name).as_bool()
    }

    pub fn str(&self, name: &str) -> &str {
        self.get(name).as_str()
    }

    pub fn bytes(&self, name: &str) -> &[u8] {
        self.get(name).as_bytes()
    }

    /// A `[]string` field; zero elements read as "".
    pub fn strings(&self, name: &str) -> Vec<String> {
        self.get(name)
            .as_list()
            .iter()
            .map(|v| v.as_str().to_string())
            .collect()
    }
}

/// All schema versions of one type.
#[derive(Debug)]
pub struct TypeSchema {
    pub name: String,
    pub versions: BTreeMap<u32, TypeVersion>,
}

impl TypeSchema {
    /// The newest version.
    pub fn latest(&self) -> &TypeVersion {
        self.versions
            .values()
            .next_back()
            .expect("at least one version")
    }

    /// The primary key's type (newest version).
    pub fn pk_type(&self) -> &FieldType {
        &self.latest().fields()[0].ty
    }
}

/// bstore types of one database.
pub struct Store<'a> {
    bolt: &'a Bolt,
    schemas: RefCell<HashMap<String, Arc<TypeSchema>>>,
}

impl std::fmt::Debug for Store<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("bolt", self.bolt).finish()
    }
}

impl<'a> Store<'a> {
    pub fn new(bolt: &'a Bolt) -> Store<'a> {
        Store::with_schemas(bolt, HashMap::new())
    }

    /// A store that starts with already parsed schemas (see [`Store::schemas`]).
    pub fn with_schemas(bolt: &'a Bolt, schemas: HashMap<String, Arc<TypeSchema>>) -> Store<'a> {
        Store {
            bolt,
            schemas: RefCell::new(schemas),
        }
    }

    /// The schemas parsed so far, to seed another `Store` over the same file.
    pub fn schemas(&self) -> HashMap<String, Arc<TypeSchema>> {
        self.schemas.borrow().clone()
    }

    /// The database underneath.
    pub fn bolt(&self) -> &'a Bolt {
        self.bolt
    }

    fn path(&self) -> PathBuf {
        self.bolt.path().to_path_buf()
    }

    /// Names of the bstore types: top-level buckets with a `types` sub-bucket.
    pub fn type_names(&self) -> Result<Vec<String>, MoxError> {
        let mut out = Vec::new();
        for e in self.bolt.root().iter() {
            let (k, v) = e?;
            if let Value::Bucket(b) = v
                && b.bucket(b"types")?.is_some()
            {
                out.push(String::from_utf8_lossy(k).into_owned());
            }
        }
        Ok(out)
    }

    fn page_error(&self, page: u64, what: String) -> MoxError {
        MoxError::Page {
            path: self.path(),
            page,
            what,
        }
    }

    fn type_bucket(&self, type_name: &str) -> Result<Bucket<'a>, MoxError> {
        let root = self.bolt.root();
        root.bucket(type_name.as_bytes())?.ok_or_else(|| {
            self.page_error(
                root.page_id(),
                format!("root bucket has no bstore type {type_name:?}"),
            )
        })
    }

    fn sub_bucket(&self, type_name: &str, sub: &str) -> Result<Bucket<'a>, MoxError> {
        let tb = self.type_bucket(type_name)?;
        tb.bucket(sub.as_bytes())?.ok_or_else(|| {
            self.page_error(
                tb.page_id(),
                format!("bstore type {type_name:?} has no {sub:?} bucket"),
            )
        })
    }

    /// The schema versions of `type_name`.
    pub fn schema(&self, type_name: &str) -> Result<Arc<TypeSchema>, MoxError> {
        if let Some(s) = self.schemas.borrow().get(type_name) {
            return Ok(s.clone());
        }
        let types = self.sub_bucket(type_name, "types")?;
        let mut versions = BTreeMap::new();
        let mut c = types.cursor();
        let mut e = c.first()?;
        while let Some((k, v)) = e {
            let page = c.page_id().unwrap_or(0);
            let bad = |what: String| {
                self.page_error(
                    page,
                    format!("bstore type {type_name:?}: schema {}: {what}", hex(k)),
                )
            };
            let Value::Data(v) = v else {
                return Err(bad("a bucket where a schema should be".into()));
            };
            let key: [u8; 4] = k
                .try_into()
                .map_err(|_| bad("schema key is not 4 bytes".into()))?;
            let tv = TypeVersion::parse(type_name, v).map_err(bad)?;
            if tv.version != u32::from_be_bytes(key) {
                return Err(bad(format!("schema says version {}", tv.version)));
            }
            versions.insert(tv.version, tv);
            e = c.next()?;
        }
        if versions.is_empty() {
            return Err(self.page_error(
                types.page_id(),
                format!("bstore type {type_name:?} has no schema"),
            ));
        }
        let schema = Arc::new(TypeSchema {
            name: type_name.to_string(),
            versions,
        });
        self.schemas
            .borrow_mut()
            .insert(type_name.to_string(), schema.clone());
        Ok(schema)
    }

    /// Every record of `type_name`, in primary key order.
    pub fn records(
        &self,
        type_name: &str,
    ) -> Result<impl Iterator<Item = Result<(Key, Record), MoxError>> + use<'a>, MoxError> {
        self.records_of(type_name, None)
    }

    /// Like [`Store::records`], decoding only the fields named in `only` (faster when a record
    /// has large fields that are not needed).
    pub fn records_only(
        &self,
        type_name: &str,
        only: &'static [&'static str],
    ) -> Result<impl Iterator<Item = Result<(Key, Record), MoxError>> + use<'a>, MoxError> {
        self.records_of(type_name, Some(only))
    }

    fn records_of(
        &self,
        type_name: &str,
        only: Option<&'static [&'static str]>,
    ) -> Result<Records<'a>, MoxError> {
        let schema = self.schema(type_name)?;
        let bucket = self.sub_bucket(type_name, "records")?;
        Ok(Records {
            entries: bucket.iter(),
            schema,
            path: self.path(),
            only,
            done: false,
        })
    }

    /// The record with raw primary key `pk`.
    pub fn get(&self, type_name: &str, pk: &[u8]) -> Result<Option<Record>, MoxError> {
        let schema = self.schema(type_name)?;
        let bucket = self.sub_bucket(type_name, "records")?;
        // The leaf is not kept: every record of a large account looked up one by one (an
        // export, a restore of its mailboxes) keeps the branches, not the database.
        match bucket.get_owned(pk)? {
            Some((v, page)) => {
                let (_, rec) = decode_entry(&schema, &self.path(), page, pk, &v, None)?;
                Ok(Some(rec))
            }
            None => Ok(None),
        }
    }

    /// The `records` bucket of `type_name`.
    pub fn records_bucket(&self, type_name: &str) -> Result<Bucket<'a>, MoxError> {
        self.sub_bucket(type_name, "records")
    }

    /// The autoincrement sequence of `type_name` (the last assigned id).
    pub fn sequence(&self, type_name: &str) -> Result<u64, MoxError> {
        Ok(self.sub_bucket(type_name, "records")?.sequence())
    }

    /// The bucket of index `index` (e.g. `MailboxID+ModSeq`) of `type_name`.
    pub fn index(&self, type_name: &str, index: &str) -> Result<Bucket<'a>, MoxError> {
        self.sub_bucket(type_name, &format!("index.{index}"))
    }

    /// The number of records of `type_name` (counted by walking the keys, not decoding).
    pub fn count(&self, type_name: &str) -> Result<u64, MoxError> {
        let mut n = 0;
        for e in self.sub_bucket(type_name, "records")?.iter() {
            e?;
            n += 1;
        }
        Ok(n)
    }
}

struct Records<'a> {
    entries: BucketIter<'a>,
    schema: Arc<TypeSchema>,
    path: PathBuf,
    only: Option<&'static [&'static str]>,
    /// A record failed to decode: the iteration ends.
    done: bool,
}

impl Iterator for Records<'_> {
    type Item = Result<(Key, Record), MoxError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let r = match self.entries.next()? {
                Ok((_, Value::Bucket(_))) => continue,
                Ok((k, Value::Data(v))) => {
                    let page = self.entries.page_id().unwrap_or(0);
                    decode_entry(&self.schema, &self.path, page, k, v, self.only)
                }
                Err(e) => Err(e),
            };
            if r.is_err() {
                self.done = true;
            }
            return Some(r);
        }
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn decode_entry(
    schema: &TypeSchema,
    path: &std::path::Path,
    page: u64,
    k: &[u8],
    v: &[u8],
    only: Option<&[&str]>,
) -> Result<(Key, Record), MoxError> {
    let err = |what: String| MoxError::Record {
        path: path.to_path_buf(),
        type_name: schema.name.clone(),
        key: format!("{} (page {page})", hex(k)),
        what,
    };
    let key = decode_pk(schema.pk_type(), k).map_err(&err)?;
    let rec = decode(schema, v, only).map_err(&err)?;
    Ok((key, rec))
}

/// Decodes a primary key of type `ty`.
pub fn decode_pk(ty: &FieldType, k: &[u8]) -> Result<Key, String> {
    let fixed = |n: usize| -> Result<u64, String> {
        if k.len() != n {
            return Err(format!("primary key of {} bytes, want {n}", k.len()));
        }
        Ok(k.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    };
    let signed = |n: usize| -> Result<Key, String> {
        let u = fixed(n)?;
        let bits = 8 * n as u32;
        // Flip the sign bit back, then sign-extend.
        let flipped = u ^ (1u64 << (bits - 1));
        let shift = 64 - bits;
        Ok(Key::Int(((flipped << shift) as i64) >> shift))
    };
    match ty.kind {
        kind if kind.is_signed() => signed(kind.key_width()),
        kind if kind.is_unsigned() => Ok(Key::Uint(fixed(kind.key_width())?)),
        Kind::Bool => match k {
            [0] => Ok(Key::Bool(false)),
            [1] => Ok(Key::Bool(true)),
            _ => Err("bad bool primary key".into()),
        },
        Kind::String => Ok(Key::String(String::from_utf8_lossy(k).into_owned())),
        Kind::Bytes => Ok(Key::Bytes(k.to_vec())),
        other => Err(format!("{} cannot be a primary key", other.name())),
    }
}

/// Encodes a signed integer as bstore does in keys: big-endian with the sign bit flipped.
pub fn int64_key(v: i64) -> [u8; 8] {
    ((v as u64) ^ (1 << 63)).to_be_bytes()
}

/// Decodes an 8-byte bstore key integer.
pub fn int64_from_key(b: &[u8]) -> Option<i64> {
    let a: [u8; 8] = b.try_into().ok()?;
    Some((u64::from_be_bytes(a) ^ (1 << 63)) as i64)
}

/// Decodes a record value with its own schema version, then drops fields that a later version
/// no longer has (bstore's `lookupLater` rule).
pub fn decode_record(schema: &TypeSchema, v: &[u8]) -> Result<Record, String> {
    decode(schema, v, None)
}

/// Like [`decode_record`], but decodes only the top-level fields named in `only`; the others
/// are checked and skipped without being copied.
pub fn decode_record_fields(
    schema: &TypeSchema,
    v: &[u8],
    only: &[&str],
) -> Result<Record, String> {
    decode(schema, v, Some(only))
}

/// Decodes a record value of exactly version `tv` (no later versions to drop fields of): every
/// field of the version, absent ones as [`FieldValue::Zero`]. For records to be changed and
/// written again.
pub(crate) fn decode_version(
    tv: &TypeVersion,
    v: &[u8],
) -> Result<Vec<(String, FieldValue)>, String> {
    let mut p = Reader { buf: v };
    let version = p.uvarint()?;
    if version != u64::from(tv.version) {
        return Err(format!(
            "record of version {version}, schema is {}",
            tv.version
        ));
    }
    p.record_fields(tv, None)
}

fn decode(schema: &TypeSchema, v: &[u8], only: Option<&[&str]>) -> Result<Record, String> {
    let mut p = Reader { buf: v };
    let version = p.uvarint()?;
    let version = u32::try_from(version).map_err(|_| format!("bad schema version {version}"))?;
    let tv = schema
        .versions
        .get(&version)
        .ok_or_else(|| format!("unknown schema version {version}"))?;
    let fields = &tv.fields()[1..];
    let mut out = p.record_fields(tv, only)?;
    let later: Vec<&TypeVersion> = schema
        .versions
        .range(version + 1..)
        .map(|(_, t)| t)
        .collect();
    if !later.is_empty() {
        let mut path = Vec::new();
        let defs: Vec<&Field> = fields
            .iter()
            .filter(|f| only.is_none_or(|o| o.contains(&&*f.name)))
            .collect();
        prune(&mut out, &defs, tv, &later, &mut path);
    }
    Ok(Record {
        version,
        fields: out,
    })
}

/// Removes fields that do not exist in every later version, recursively through structs.
fn prune(
    values: &mut Vec<(String, FieldValue)>,
    defs: &[&Field],
    tv: &TypeVersion,
    later: &[&TypeVersion],
    path: &mut Vec<String>,
) {
    let mut keep = Vec::with_capacity(values.len());
    for ((name, mut value), def) in std::mem::take(values).into_iter().zip(defs) {
        path.push(name.to_string());
        if later.iter().all(|t| t.has_path(path)) {
            prune_value(&mut value, &def.ty, tv, later, path);
            keep.push((name, value));
        }
        path.pop();
    }
    *values = keep;
}

fn prune_value(
    value: &mut FieldValue,
    ty: &FieldType,
    tv: &TypeVersion,
    later: &[&TypeVersion],
    path: &mut Vec<String>,
) {
    match (value, ty.kind) {
        (FieldValue::Struct(fs), Kind::Struct) => {
            let defs: Vec<&Field> = tv.structs[ty.struct_index].iter().collect();
            prune(fs, &defs, tv, later, path);
        }
        (FieldValue::List(items), Kind::Slice | Kind::Array) => {
            if let Some(lt) = &ty.list {
                for it in items {
                    prune_value(it, lt, tv, later, path);
                }
            }
        }
        (FieldValue::Map(entries), Kind::Map) => {
            if let Some(vt) = &ty.map_value {
                for (_, v) in entries {
                    prune_value(v, vt, tv, later, path);
                }
            }
        }
        _ => {}
    }
}

struct Reader<'b> {
    buf: &'b [u8],
}

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        if self.buf.len() < n {
            return Err(format!(
                "value truncated: need {n} bytes, {} left",
                self.buf.len()
            ));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    fn uvarint(&mut self) -> Result<u64, String> {
        let mut x: u64 = 0;
        let mut s = 0u32;
        for (i, &b) in self.buf.iter().enumerate() {
            if i == 10 {
                return Err("uvarint overflows 64 bits".into());
            }
            if b < 0x80 {
                if i == 9 && b > 1 {
                    return Err("uvarint overflows 64 bits".into());
                }
                self.buf = &self.buf[i + 1..];
                return Ok(x | (u64::from(b) << s));
            }
            x |= u64::from(b & 0x7f) << s;
            s += 7;
        }
        Err("uvarint truncated".into())
    }

    fn varint(&mut self) -> Result<i64, String> {
        let ux = self.uvarint()?;
        let x = (ux >> 1) as i64;
        Ok(if ux & 1 != 0 { !x } else { x })
    }

    fn count(&mut self) -> Result<usize, String> {
        let n = self.uvarint()?;
        if n > i32::MAX as u64 {
            return Err(format!("count {n} does not fit in int32"));
        }
        Ok(n as usize)
    }

    fn len_bytes(&mut self) -> Result<&'b [u8], String> {
        let n = self.count()?;
        self.take(n)
    }

    /// A fieldmap of `n` bits.
    fn fieldmap(&mut self, n: usize) -> Result<&'b [u8], String> {
        self.take(n.div_ceil(8))
    }

    /// The top-level fields after the version; every byte must be used.
    fn record_fields(
        &mut self,
        tv: &TypeVersion,
        only: Option<&[&str]>,
    ) -> Result<Vec<(String, FieldValue)>, String> {
        let out = self.struct_fields(tv, &tv.fields()[1..], 0, only)?;
        if !self.buf.is_empty() {
            return Err(format!(
                "{} bytes left over after the record",
                self.buf.len()
            ));
        }
        Ok(out)
    }

    /// A fieldmap and the present fields; with `only`, other fields are skipped (top level).
    fn struct_fields(
        &mut self,
        tv: &TypeVersion,
        fields: &[Field],
        depth: usize,
        only: Option<&[&str]>,
    ) -> Result<Vec<(String, FieldValue)>, String> {
        let fm = self.fieldmap(fields.len())?;
        let mut out = Vec::with_capacity(only.map_or(fields.len(), <[&str]>::len));
        for (i, f) in fields.iter().enumerate() {
            let wanted = only.is_none_or(|o| o.contains(&&*f.name));
            let present = bit(fm, i);
            if !present && f.nonzero {
                return Err(format!("field {} must be nonzero but is absent", f.name));
            }
            if !wanted {
                if present {
                    self.skip(tv, &f.ty, depth + 1)
                        .map_err(|e| format!("field {}: {e}", f.name))?;
                }
                continue;
            }
            let v = if present {
                self.value(tv, &f.ty, depth + 1)
                    .map_err(|e| format!("field {}: {e}", f.name))?
            } else {
                FieldValue::Zero
            };
            out.push((f.name.clone(), v));
        }
        Ok(out)
    }

    /// Checks and passes over a present value of type `ty` without copying it.
    fn skip(&mut self, tv: &TypeVersion, ty: &FieldType, depth: usize) -> Result<(), String> {
        if depth > MAX_VALUE_DEPTH {
            return Err("value nested too deeply".into());
        }
        match ty.kind {
            Kind::Bytes | Kind::BinaryMarshal | Kind::String | Kind::Time => {
                self.len_bytes()?;
            }
            // Numbers and bools allocate nothing; nested values are checked as when decoded.
            _ => {
                self.value(tv, ty, depth)?;
            }
        }
        Ok(())
    }

    fn list(
        &mut self,
        tv: &TypeVersion,
        elem: &FieldType,
        n: usize,
        depth: usize,
    ) -> Result<Vec<FieldValue>, String> {
        let fm = self.fieldmap(n)?;
        let mut out = Vec::with_capacity(n.min(self.buf.len() + 1));
        for i in 0..n {
            out.push(if bit(fm, i) {
                self.value(tv, elem, depth + 1)?
            } else {
                FieldValue::Zero
            });
        }
        Ok(out)
    }

    /// A present (non-zero) value of type `ty`.
    fn value(
        &mut self,
        tv: &TypeVersion,
        ty: &FieldType,
        depth: usize,
    ) -> Result<FieldValue, String> {
        if depth > MAX_VALUE_DEPTH {
            return Err("value nested too deeply".into());
        }
        let missing = |what: &str| format!("schema: {} without {what}", ty.kind.name());
        Ok(match ty.kind {
            Kind::Bytes => FieldValue::Bytes(self.len_bytes()?.to_vec()),
            Kind::BinaryMarshal => FieldValue::BinaryMarshal(self.len_bytes()?.to_vec()),
            Kind::String => {
                FieldValue::String(String::from_utf8_lossy(self.len_bytes()?).into_owned())
            }
            Kind::Time => FieldValue::Time(self.len_bytes()?.to_vec()),
            Kind::Bool => {
                if ty.ptr {
                    FieldValue::Bool(self.take(1)?[0] != 0)
                } else {
                    FieldValue::Bool(true)
                }
            }
            Kind::Int => {
                let v = self.varint()?;
                if i32::try_from(v).is_err() {
                    return Err(format!("int {v} does not fit in int32"));
                }
                FieldValue::Int(v)
            }
            Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64 => FieldValue::Int(self.varint()?),
            Kind::Uint => {
                let v = self.uvarint()?;
                if u32::try_from(v).is_err() {
                    return Err(format!("uint {v} does not fit in uint32"));
                }
                FieldValue::Uint(v)
            }
            Kind::Uint8 | Kind::Uint16 | Kind::Uint32 | Kind::Uint64 => {
                FieldValue::Uint(self.uvarint()?)
            }
            Kind::Float32 => {
                let bits = self.uvarint()?;
                FieldValue::Float(f64::from(f32::from_bits(bits as u32)))
            }
            Kind::Float64 => FieldValue::Float(f64::from_bits(self.uvarint()?)),
            Kind::Slice => {
                let elem = ty.list.as_deref().ok_or_else(|| missing("List"))?;
                let n = self.count()?;
                FieldValue::List(self.list(tv, elem, n, depth)?)
            }
            Kind::Array => {
                let elem = ty.list.as_deref().ok_or_else(|| missing("List"))?;
                FieldValue::List(self.list(tv, elem, ty.array_length, depth)?)
            }
            Kind::Map => {
                let kt = ty.map_key.as_deref().ok_or_else(|| missing("MapKey"))?;
                let vt = ty.map_value.as_deref().ok_or_else(|| missing("MapValue"))?;
                let n = self.count()?;
                let fm = self.fieldmap(n)?;
                let mut out = Vec::with_capacity(n.min(self.buf.len() + 1));
                for i in 0..n {
                    let k = self.value(tv, kt, depth + 1)?;
                    let v = if bit(fm, i) {
                        self.value(tv, vt, depth + 1)?
                    } else {
                        FieldValue::Zero
                    };
                    out.push((k, v));
                }
                FieldValue::Map(out)
            }
            Kind::Struct => {
                let fields = tv
                    .structs
                    .get(ty.struct_index)
                    .ok_or_else(|| missing("Fields"))?;
                FieldValue::Struct(self.struct_fields(tv, fields, depth, None)?)
            }
        })
    }
}

/// Bit `i` of a fieldmap: MSB first.
fn bit(fm: &[u8], i: usize) -> bool {
    fm[i / 8] & (0x80 >> (i % 8)) != 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mox::schema::parse_type_version;

    fn schema(json: &str) -> TypeSchema {
        let tv = parse_type_version(json.as_bytes()).unwrap();
        TypeSchema {
            name: "T".into(),
            versions: BTreeMap::from([(tv.version, tv)]),
        }
    }

    #[test]
    fn sync_state_worked_example() {
        let s = schema(
            r#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int"}},
            {"Name":"LastModSeq","Type":{"Kind":"int64"},"Nonzero":true},
            {"Name":"HighestDeletedModSeq","Type":{"Kind":"int64"}}]}"#,
        );
        let r = decode_record(&s, &[0x01, 0xc0, 0xca, 0x02, 0x01]).unwrap();
        assert_eq!(r.i64("LastModSeq"), 165);
        assert_eq!(r.i64("HighestDeletedModSeq"), -1);
        assert_eq!(
            decode_pk(s.pk_type(), &[0x80, 0, 0, 1]).unwrap(),
            Key::Int(1)
        );
        // Leftover bytes, truncation and a missing nonzero field are errors.
        assert!(decode_record(&s, &[0x01, 0xc0, 0xca, 0x02, 0x01, 0x00]).is_err());
        assert!(decode_record(&s, &[0x01, 0xc0, 0xca]).is_err());
        assert!(decode_record(&s, &[0x01, 0x40, 0x01]).is_err());
    }

    #[test]
    fn keys_flip_the_sign_bit() {
        for v in [i64::MIN, -1, 0, 1, 150, i64::MAX] {
            assert_eq!(int64_from_key(&int64_key(v)), Some(v));
        }
        assert_eq!(int64_key(1), [0x80, 0, 0, 0, 0, 0, 0, 1]);
        assert!(int64_key(-1) < int64_key(0));
    }

    #[test]
    fn later_versions_drop_fields() {
        let v1 = parse_type_version(
            br#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"A","Type":{"Kind":"string"}},{"Name":"B","Type":{"Kind":"uint32"}}]}"#,
        )
        .unwrap();
        let v2 = parse_type_version(
            br#"{"Version":2,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"B","Type":{"Kind":"uint32"}}]}"#,
        )
        .unwrap();
        let s = TypeSchema {
            name: "T".into(),
            versions: BTreeMap::from([(1, v1), (2, v2)]),
        };
        let r = decode_record(&s, &[0x01, 0xc0, 0x01, b'x', 0x07]).unwrap();
        assert_eq!(r.version, 1);
        assert_eq!(r.get("A"), &FieldValue::Zero);
        assert_eq!(r.u64("B"), 7);
    }

    #[test]
    fn later_versions_drop_nested_struct_fields() {
        let v1 = parse_type_version(
            br#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"S","Type":{"Kind":"slice","List":{"Kind":"struct","Fields":[
                {"Name":"A","Type":{"Kind":"string"}},{"Name":"B","Type":{"Kind":"int32"}}],
                "FieldsTypeSeq":2}}}]}"#,
        )
        .unwrap();
        let v2 = parse_type_version(
            br#"{"Version":2,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"S","Type":{"Kind":"slice","List":{"Kind":"struct","Fields":[
                {"Name":"B","Type":{"Kind":"int32"}}],"FieldsTypeSeq":2}}}]}"#,
        )
        .unwrap();
        let s = TypeSchema {
            name: "T".into(),
            versions: BTreeMap::from([(1, v1), (2, v2)]),
        };
        // version 1, fieldmap S, slice of 2: elements [1 present, 2 absent],
        // element 1: fieldmap A+B, A="x", B=zigzag(3).
        let r = decode_record(&s, &[0x01, 0x80, 0x02, 0x80, 0xc0, 0x01, b'x', 0x06]).unwrap();
        let items = r.get("S").as_list();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].field("A"), &FieldValue::Zero);
        assert_eq!(items[0].field("B"), &FieldValue::Int(3));
        assert_eq!(items[1], FieldValue::Zero);
    }

    #[test]
    fn maps_arrays_and_pointer_bools() {
        let s = schema(
            r#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"string"}},
            {"Name":"M","Type":{"Kind":"map","MapKey":{"Kind":"string"},"MapValue":{"Kind":"uint16"}}},
            {"Name":"A","Type":{"Kind":"array","ArrayLength":3,"List":{"Kind":"int8"}}},
            {"Name":"P","Type":{"Ptr":true,"Kind":"bool"}},
            {"Name":"F","Type":{"Kind":"float64"}}]}"#,
        );
        let one = 1.5f64.to_bits();
        let mut v = vec![
            0x01, 0xf0, 0x02, 0x40, 0x01, b'a', 0x01, b'b', 0x07, 0xa0, 0x02, 0x03, 0x00,
        ];
        let mut x = one;
        while x >= 0x80 {
            v.push((x as u8) | 0x80);
            x >>= 7;
        }
        v.push(x as u8);
        let r = decode_record(&s, &v).unwrap();
        assert_eq!(
            r.get("M"),
            &FieldValue::Map(vec![
                (FieldValue::String("a".into()), FieldValue::Zero),
                (FieldValue::String("b".into()), FieldValue::Uint(7)),
            ])
        );
        assert_eq!(
            r.get("A").as_list(),
            &[FieldValue::Int(1), FieldValue::Zero, FieldValue::Int(-2)]
        );
        // A non-nil pointer to false is present, with its byte.
        assert_eq!(r.get("P"), &FieldValue::Bool(false));
        assert_eq!(r.get("F"), &FieldValue::Float(1.5));
        assert_eq!(
            decode_pk(s.pk_type(), b"key").unwrap(),
            Key::String("key".into())
        );
    }
}
