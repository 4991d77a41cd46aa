//! The bytes of the repository config file (`REPO/config`). Only this module knows the layout.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVRP"
//! 4      4     format version, u32 LE (2, or 3 for an encrypted repository; 1 is still read)
//! 8      ...   postcard(RepoConfig) (version 1: without `pack`; version 2: without
//!              `encryption`)
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The magic at the start of the config file.
pub const CONFIG_MAGIC: [u8; 4] = *b"MVRP";
/// The repository format version this build writes (plaintext repositories).
pub const REPO_VERSION: u32 = 2;
/// The format version of encrypted repositories.
pub const REPO_VERSION_ENCRYPTED: u32 = 3;
/// The newest repository format version this build reads.
pub const REPO_VERSION_MAX: u32 = 3;
/// The oldest repository format version this build reads.
pub const REPO_VERSION_MIN: u32 = 1;

/// Chunking of new repositories: whole files up to 1 MiB, databases split at the bbolt page
/// size (4 KiB), content-defined chunks of 64 KiB / 256 KiB / 1 MiB otherwise.
pub const DEFAULT_CHUNK: ChunkParams = ChunkParams {
    whole_max: 1 << 20,
    fixed_size: 4096,
    cdc_min: 64 << 10,
    cdc_avg: 256 << 10,
    cdc_max: 1 << 20,
};

/// Packs of new repositories: 32 MiB of data, 4 MiB of metadata, at most 100,000 blobs.
pub const DEFAULT_PACK: PackParams = PackParams {
    data_size: 32 << 20,
    meta_size: 4 << 20,
    max_blobs: 100_000,
};

/// The chunking parameters the repository was created with (recorded for future writers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkParams {
    /// Files up to this size are stored as one blob.
    pub whole_max: u64,
    /// Fixed chunk size for database files.
    pub fixed_size: u32,
    pub cdc_min: u32,
    pub cdc_avg: u32,
    pub cdc_max: u32,
}

impl Default for ChunkParams {
    fn default() -> Self {
        DEFAULT_CHUNK
    }
}

/// When a pack is closed: on size (data or metadata), on blob count, or at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackParams {
    /// Target size of a data pack, bytes.
    pub data_size: u64,
    /// Target size of a metadata pack (trees, manifests, message lists), bytes.
    pub meta_size: u64,
    /// Most blobs in one pack.
    pub max_blobs: u32,
}

impl Default for PackParams {
    fn default() -> Self {
        DEFAULT_PACK
    }
}

/// What `REPO/config` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoConfig {
    /// Same as the header version; kept inside too so the decoded value is self-describing.
    pub version: u32,
    /// A random id naming this repository (replication targets record it).
    pub id: [u8; 32],
    pub chunk: ChunkParams,
    /// Pack sizes (format 2; a format 1 config reads as the defaults).
    pub pack: PackParams,
    /// The public keys of an encrypted repository (format 3; `None` before).
    pub encryption: Option<crate::repo::keys::EncryptionParams>,
}

/// The config of repository format 2, as it is written.
#[derive(Serialize, Deserialize)]
struct RepoConfigV2 {
    version: u32,
    id: [u8; 32],
    chunk: ChunkParams,
    pack: PackParams,
}

/// The config of repository format 1, as it was written.
#[derive(Deserialize)]
struct RepoConfigV1 {
    version: u32,
    id: [u8; 32],
    chunk: ChunkParams,
}

impl RepoConfig {
    /// A fresh config with a new random id (from the OS; hashed time, pid and path otherwise).
    pub fn new(seed: &Path) -> RepoConfig {
        let mut h = blake3::Hasher::new();
        let mut random = [0u8; 32];
        if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
            use std::io::Read;
            let _ = f.read_exact(&mut random);
        }
        h.update(&random);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(&now.to_le_bytes());
        h.update(&std::process::id().to_le_bytes());
        h.update(seed.as_os_str().as_encoded_bytes());
        RepoConfig {
            version: REPO_VERSION,
            id: *h.finalize().as_bytes(),
            chunk: ChunkParams::default(),
            pack: PackParams::default(),
            encryption: None,
        }
    }

    /// Whether the repository is of an older format that this build reads but does not write
    /// (`mailvault migrate` converts it).
    pub fn is_legacy(&self) -> bool {
        self.version < REPO_VERSION
    }

    /// Whether the repository is encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.encryption.is_some()
    }

    /// The bytes of the config file, in the format of `self.version`.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&CONFIG_MAGIC);
        out.extend_from_slice(&self.version.to_le_bytes());
        if self.version == 1 {
            let v1 = (self.version, self.id, self.chunk);
            out.extend_from_slice(&postcard::to_stdvec(&v1).expect("config encodes"));
        } else if self.version == 2 {
            let v2 = RepoConfigV2 {
                version: self.version,
                id: self.id,
                chunk: self.chunk,
                pack: self.pack,
            };
            out.extend_from_slice(&postcard::to_stdvec(&v2).expect("config encodes"));
        } else {
            out.extend_from_slice(&postcard::to_stdvec(self).expect("config encodes"));
        }
        out
    }

    /// Parses the config file bytes; `path` names the file in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<RepoConfig> {
        if bytes.len() < 8 || bytes[0..4] != CONFIG_MAGIC {
            return Err(Error::corrupt(path, "not a mailvault repository config"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if !(REPO_VERSION_MIN..=REPO_VERSION_MAX).contains(&version) {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: REPO_VERSION_MAX,
            });
        }
        let bad = |e: postcard::Error| Error::corrupt(path, format!("config: {e}"));
        let config: RepoConfig = if version == 1 {
            let v1: RepoConfigV1 = postcard::from_bytes(&bytes[8..]).map_err(bad)?;
            RepoConfig {
                version: v1.version,
                id: v1.id,
                chunk: v1.chunk,
                pack: PackParams::default(),
                encryption: None,
            }
        } else if version == 2 {
            let v2: RepoConfigV2 = postcard::from_bytes(&bytes[8..]).map_err(bad)?;
            RepoConfig {
                version: v2.version,
                id: v2.id,
                chunk: v2.chunk,
                pack: v2.pack,
                encryption: None,
            }
        } else {
            postcard::from_bytes(&bytes[8..]).map_err(bad)?
        };
        if config.version != version {
            return Err(Error::corrupt(path, "config version fields disagree"));
        }
        if (version == REPO_VERSION_ENCRYPTED) != config.encryption.is_some() {
            return Err(Error::corrupt(
                path,
                "config: format 3 (and only it) is an encrypted repository",
            ));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unknown_version() {
        let c = RepoConfig::new(Path::new("r"));
        let bytes = c.encode();
        assert_eq!(RepoConfig::decode(&bytes, Path::new("config")).unwrap(), c);
        let mut newer = bytes.clone();
        newer[4] = 4;
        assert!(matches!(
            RepoConfig::decode(&newer, Path::new("config")),
            Err(Error::UnsupportedVersion { found: 4, .. })
        ));
        // Format 3 is exactly the encrypted one: a version 3 header without keys is damage.
        let mut three = bytes.clone();
        three[4] = 3;
        assert!(matches!(
            RepoConfig::decode(&three, Path::new("config")),
            Err(Error::Corrupt { .. })
        ));
        let (_, params) = crate::repo::keys::generate(&c.id).unwrap();
        let enc = RepoConfig {
            version: REPO_VERSION_ENCRYPTED,
            encryption: Some(params),
            ..c.clone()
        };
        assert_eq!(
            RepoConfig::decode(&enc.encode(), Path::new("config")).unwrap(),
            enc
        );
        let v1 = RepoConfig {
            version: 1,
            ..c.clone()
        };
        let back = RepoConfig::decode(&v1.encode(), Path::new("config")).unwrap();
        assert_eq!(back, v1);
        assert!(back.is_legacy());
        assert!(matches!(
            RepoConfig::decode(b"garbage!", Path::new("config")),
            Err(Error::Corrupt { .. })
        ));
    }
}
