//! Typed identifiers. Every stored thing is named by the BLAKE3 hash of its content.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Length in bytes of every id (a BLAKE3 digest).
pub const ID_LEN: usize = 32;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub [u8; ID_LEN]);

        impl $name {
            /// The BLAKE3 hash of `data`, as this kind of id.
            pub fn hash(data: &[u8]) -> Self {
                Self(*blake3::hash(data).as_bytes())
            }

            /// Wraps a finished BLAKE3 hash.
            pub fn from_hash(hash: blake3::Hash) -> Self {
                Self(*hash.as_bytes())
            }

            /// Lower-case hex, 64 characters.
            pub fn to_hex(&self) -> String {
                let mut s = String::with_capacity(ID_LEN * 2);
                for b in self.0 {
                    s.push_str(&format!("{b:02x}"));
                }
                s
            }

            /// The first 8 hex digits, for display.
            pub fn short(&self) -> String {
                self.to_hex()[..8].to_string()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.short())
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex(s).map(Self)
            }
        }
    };
}

typed_id!(
    /// The id of a blob: BLAKE3 of its uncompressed content.
    BlobId
);
typed_id!(
    /// The id of a snapshot: BLAKE3 of its encoded snapshot file.
    SnapshotId
);
typed_id!(
    /// The id of a pack file: BLAKE3 of all its bytes.
    PackId
);
typed_id!(
    /// The id of an index file: BLAKE3 of all its bytes.
    IndexId
);

/// A string that is not 64 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a 64-digit hex id: {0:?}")]
pub struct ParseIdError(pub String);

fn parse_hex(s: &str) -> Result<[u8; ID_LEN], ParseIdError> {
    let bytes = s.as_bytes();
    if bytes.len() != ID_LEN * 2 {
        return Err(ParseIdError(s.to_string()));
    }
    let mut out = [0u8; ID_LEN];
    for (i, pair) in bytes.chunks(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16);
        let lo = (pair[1] as char).to_digit(16);
        match (hi, lo) {
            (Some(h), Some(l)) => out[i] = (h * 16 + l) as u8,
            _ => return Err(ParseIdError(s.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let id = BlobId::hash(b"hello");
        let parsed: BlobId = id.to_hex().parse().unwrap();
        assert_eq!(id, parsed);
        assert_eq!(
            id.to_hex(),
            "ea8f163db38682925e4491c5e58d4bb3506ef8c14eb78a86e908c5624a67200f"
        );
        assert!("xyz".parse::<BlobId>().is_err());
        assert!("g".repeat(64).parse::<BlobId>().is_err());
    }
}
