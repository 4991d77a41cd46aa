//! bstore schemas: the JSON type versions stored in each type's `types` bucket.
//!
//! A type version lists the fields in stored order (field 0 is the primary key). Kinds are names
//! in on-disk version 2 and 1-based integers in version 1. Struct types are written out once and
//! referred to afterwards by `FieldsTypeSeq: -n` (on-disk version 2): the top-level type is
//! sequence 1, each struct definition carries its positive sequence.

use std::collections::BTreeMap;

use serde_json::Value as Json;

/// The kind of a stored field.
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

/// Kind names in the order of their on-disk version 1 numbers (1-based).
const KIND_NAMES: [(&str, Kind); 21] = [
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
    /// The schema's name of the kind.
    pub fn name(self) -> &'static str {
        KIND_NAMES
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// True for the signed integer kinds.
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Kind::Int | Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64
        )
    }

    /// True for the unsigned integer kinds.
    pub fn is_unsigned(self) -> bool {
        matches!(
            self,
            Kind::Uint | Kind::Uint8 | Kind::Uint16 | Kind::Uint32 | Kind::Uint64
        )
    }

    /// Width in bytes of an integer in keys (Go `int`/`uint` are stored as 32 bits).
    pub fn key_width(self) -> usize {
        match self {
            Kind::Int8 | Kind::Uint8 => 1,
            Kind::Int16 | Kind::Uint16 => 2,
            Kind::Int | Kind::Int32 | Kind::Uint | Kind::Uint32 => 4,
            _ => 8,
        }
    }
}

/// The type of a field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldType {
    /// A Go pointer: nil is zero; a `*bool` carries a payload byte.
    pub ptr: bool,
    pub kind: Kind,
    /// Element type of a slice or array.
    pub list: Option<Box<FieldType>>,
    pub array_length: usize,
    pub map_key: Option<Box<FieldType>>,
    pub map_value: Option<Box<FieldType>>,
    /// For structs: index into [`TypeVersion::structs`].
    pub struct_index: usize,
}

/// A field of a struct or of the top-level type.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub ty: FieldType,
    /// The field may not be zero: bstore refuses to store such a record.
    pub nonzero: bool,
}

/// An index of a type: its name (bucket `index.<name>`) and field names.
#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub unique: bool,
    pub fields: Vec<String>,
}

/// One version of a type's schema, with the exact JSON it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeVersion {
    /// The type's name ("" when parsed by [`parse_type_version`], which does not know it).
    pub type_name: String,
    pub version: u32,
    pub ondisk_version: u32,
    /// The JSON as stored in the `types` bucket, byte for byte (written again as is).
    pub json: Vec<u8>,
    /// Field lists of every struct type; index 0 is the top-level type (field 0: primary key).
    pub structs: Vec<Vec<Field>>,
    pub indices: Vec<Index>,
}

impl TypeVersion {
    /// Parses the `types` value of type `type_name`. Errors are plain text; the caller adds
    /// the file.
    pub fn parse(type_name: &str, json: impl AsRef<[u8]>) -> Result<TypeVersion, String> {
        let mut tv = parse_type_version(json.as_ref())?;
        tv.type_name = type_name.to_string();
        Ok(tv)
    }

    /// Fields of the top-level type, primary key first.
    pub fn fields(&self) -> &[Field] {
        &self.structs[0]
    }

    /// The position of top-level field `name`.
    pub fn field_index(&self, name: &str) -> Option<usize> {
        self.fields().iter().position(|f| f.name == name)
    }

    /// Whether a field path (names through nested structs, looking through slices, arrays,
    /// maps and pointers) exists in this version.
    pub fn has_path(&self, path: &[String]) -> bool {
        let mut fields = self.fields();
        for (i, name) in path.iter().enumerate() {
            let Some(f) = fields.iter().find(|f| &f.name == name) else {
                return false;
            };
            if i + 1 == path.len() {
                return true;
            }
            let mut ty = &f.ty;
            loop {
                match ty.kind {
                    Kind::Slice | Kind::Array => match &ty.list {
                        Some(l) => ty = l,
                        None => return false,
                    },
                    Kind::Map => match &ty.map_value {
                        Some(v) => ty = v,
                        None => return false,
                    },
                    _ => break,
                }
            }
            if ty.kind != Kind::Struct {
                return false;
            }
            fields = &self.structs[ty.struct_index];
        }
        true
    }
}

/// Work state while parsing one type version.
struct Parser {
    structs: Vec<Vec<Field>>,
    /// FieldsTypeSeq → index in `structs`.
    seqs: BTreeMap<i64, usize>,
    /// References to resolve once everything is parsed: (struct index, field path, seq).
    pending: Vec<(Vec<usize>, i64)>,
}

/// Parses one `types` value. Errors are plain text; the caller adds file and type.
pub fn parse_type_version(json: &[u8]) -> Result<TypeVersion, String> {
    let v: Json = serde_json::from_slice(json).map_err(|e| format!("schema is not JSON: {e}"))?;
    let version = v
        .get("Version")
        .and_then(Json::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or("schema without Version")?;
    let ondisk_version = match v.get("OndiskVersion") {
        None | Some(Json::Null) => 1,
        Some(x) => x
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or("bad OndiskVersion")?,
    };
    if !(1..=2).contains(&ondisk_version) {
        return Err(format!("unknown on-disk schema version {ondisk_version}"));
    }
    let mut p = Parser {
        structs: vec![Vec::new()],
        seqs: BTreeMap::from([(1, 0)]),
        pending: Vec::new(),
    };
    let fields = v
        .get("Fields")
        .and_then(Json::as_array)
        .ok_or("schema without Fields")?;
    if fields.is_empty() {
        return Err("schema without a primary key field".into());
    }
    let parsed = p.fields(fields, &mut vec![0], 0)?;
    p.structs[0] = parsed;
    // Resolve struct references.
    for (path, seq) in std::mem::take(&mut p.pending) {
        let idx = *p
            .seqs
            .get(&seq)
            .ok_or_else(|| format!("reference to unknown struct type sequence {seq}"))?;
        let ty = p.type_at(&path).ok_or("internal: bad reference path")?;
        ty.struct_index = idx;
    }
    let mut indices = Vec::new();
    if let Some(Json::Object(m)) = v.get("Indices") {
        for (name, iv) in m {
            let unique = iv.get("Unique").and_then(Json::as_bool).unwrap_or(false);
            let fields = iv
                .get("Fields")
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.get("Name").and_then(Json::as_str).map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            indices.push(Index {
                name: name.clone(),
                unique,
                fields,
            });
        }
    }
    Ok(TypeVersion {
        type_name: String::new(),
        version,
        ondisk_version,
        json: json.to_vec(),
        structs: p.structs,
        indices,
    })
}

const MAX_SCHEMA_DEPTH: usize = 32;

impl Parser {
    /// `path` locates the field list being built: [struct index, field, (type step)...]. Only
    /// the struct index and field number are needed to patch references, so a path is
    /// [struct index, field number, descent steps] where steps are 0 = list, 1 = key, 2 = value.
    fn fields(
        &mut self,
        arr: &[Json],
        path: &mut Vec<usize>,
        depth: usize,
    ) -> Result<Vec<Field>, String> {
        let mut out = Vec::with_capacity(arr.len());
        for (i, f) in arr.iter().enumerate() {
            let name = f
                .get("Name")
                .and_then(Json::as_str)
                .ok_or("field without Name")?;
            let nonzero = f.get("Nonzero").and_then(Json::as_bool).unwrap_or(false);
            let tj = f
                .get("Type")
                .ok_or_else(|| format!("field {name} without Type"))?;
            path.push(i);
            let ty = self.field_type(tj, path, depth + 1);
            path.pop();
            out.push(Field {
                name: name.to_string(),
                ty: ty?,
                nonzero,
            });
        }
        Ok(out)
    }

    fn field_type(
        &mut self,
        t: &Json,
        path: &mut Vec<usize>,
        depth: usize,
    ) -> Result<FieldType, String> {
        if depth > MAX_SCHEMA_DEPTH {
            return Err("schema nested too deeply".into());
        }
        let kind = match t.get("Kind") {
            Some(Json::String(s)) => KIND_NAMES
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, k)| *k)
                .ok_or_else(|| format!("unknown kind {s:?}"))?,
            Some(Json::Number(n)) => n
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .filter(|n| (1..=KIND_NAMES.len()).contains(n))
                .map(|n| KIND_NAMES[n - 1].1)
                .ok_or_else(|| format!("unknown kind number {n}"))?,
            _ => return Err("type without Kind".into()),
        };
        let ptr = t.get("Ptr").and_then(Json::as_bool).unwrap_or(false);
        let mut ty = FieldType {
            ptr,
            kind,
            list: None,
            array_length: 0,
            map_key: None,
            map_value: None,
            struct_index: 0,
        };
        let mut sub =
            |this: &mut Parser, key: &str, step: usize| -> Result<Box<FieldType>, String> {
                let j = t
                    .get(key)
                    .ok_or_else(|| format!("{} type without {key}", kind.name()))?;
                path.push(step);
                let r = this.field_type(j, path, depth + 1);
                path.pop();
                Ok(Box::new(r?))
            };
        match kind {
            Kind::Slice => ty.list = Some(sub(self, "List", 0)?),
            Kind::Array => {
                ty.array_length = t
                    .get("ArrayLength")
                    .and_then(Json::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
                    .ok_or("array without ArrayLength")?;
                ty.list = Some(sub(self, "List", 0)?);
            }
            Kind::Map => {
                ty.map_key = Some(sub(self, "MapKey", 1)?);
                ty.map_value = Some(sub(self, "MapValue", 2)?);
            }
            Kind::Struct => {
                let seq = t.get("FieldsTypeSeq").and_then(Json::as_i64).unwrap_or(0);
                if seq < 0 {
                    self.pending.push((path.clone(), -seq));
                } else {
                    let fields = t
                        .get("Fields")
                        .and_then(Json::as_array)
                        .ok_or("struct type without Fields")?;
                    let idx = self.structs.len();
                    self.structs.push(Vec::new());
                    if seq > 0 {
                        self.seqs.insert(seq, idx);
                    }
                    let mut spath = vec![idx];
                    let fs = self.fields(fields, &mut spath, depth + 1)?;
                    self.structs[idx] = fs;
                    ty.struct_index = idx;
                }
            }
            _ => {}
        }
        Ok(ty)
    }

    /// The field type at `path` ([struct index, field number, steps...]).
    fn type_at(&mut self, path: &[usize]) -> Option<&mut FieldType> {
        let (&si, rest) = path.split_first()?;
        let (&fi, steps) = rest.split_first()?;
        let mut ty = &mut self.structs.get_mut(si)?.get_mut(fi)?.ty;
        for &s in steps {
            ty = match s {
                0 => ty.list.as_deref_mut()?,
                1 => ty.map_key.as_deref_mut()?,
                _ => ty.map_value.as_deref_mut()?,
            };
        }
        Some(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_references_resolve() {
        let j = br#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"A","Type":{"Kind":"struct","Fields":[{"Name":"X","Type":{"Kind":"string"}}],"FieldsTypeSeq":2}},
            {"Name":"B","Type":{"Kind":"slice","List":{"Kind":"struct","FieldsTypeSeq":-2}}},
            {"Name":"C","Type":{"Kind":"map","MapKey":{"Kind":"string"},"MapValue":{"Kind":"struct","FieldsTypeSeq":-1}}}],
            "Indices":{}}"#;
        let tv = parse_type_version(j).unwrap();
        assert_eq!(tv.fields().len(), 4);
        assert_eq!(tv.fields()[1].ty.struct_index, 1);
        assert_eq!(tv.fields()[2].ty.list.as_ref().unwrap().struct_index, 1);
        assert_eq!(
            tv.fields()[3].ty.map_value.as_ref().unwrap().struct_index,
            0
        );
        assert!(tv.has_path(&["B".into(), "X".into()]));
        assert!(!tv.has_path(&["B".into(), "Y".into()]));
    }

    #[test]
    fn integer_kinds_of_ondisk_version_1() {
        let j = br#"{"Version":3,"Fields":[{"Name":"ID","Type":{"Kind":7}},{"Name":"S","Type":{"Kind":17}}]}"#;
        let tv = parse_type_version(j).unwrap();
        assert_eq!(tv.ondisk_version, 1);
        assert_eq!(tv.fields()[0].ty.kind, Kind::Int64);
        assert_eq!(tv.fields()[1].ty.kind, Kind::String);
    }

    #[test]
    fn unknown_reference_is_an_error() {
        let j = br#"{"Version":1,"OndiskVersion":2,"Fields":[{"Name":"ID","Type":{"Kind":"int64"}},
            {"Name":"A","Type":{"Kind":"struct","FieldsTypeSeq":-5}}]}"#;
        assert!(parse_type_version(j).is_err());
    }
}
