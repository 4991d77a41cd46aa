//! The bytes of the repository config file (`REPO/config`). Only this module knows the layout.
//!
//! ```text
//! offset size  field
//! 0      4     magic "MVRP"
//! 4      4     format version, u32 LE (1)
//! 8      ...   postcard(RepoConfig)
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::chunk;
use crate::error::{Error, Result};

/// The magic at the start of the config file.
pub const CONFIG_MAGIC: [u8; 4] = *b"MVRP";
/// The repository format version this build writes and reads.
pub const REPO_VERSION: u32 = 1;

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
        ChunkParams {
            whole_max: chunk::WHOLE_MAX,
            fixed_size: chunk::FIXED_SIZE as u32,
            cdc_min: chunk::CDC_MIN as u32,
            cdc_avg: chunk::CDC_AVG as u32,
            cdc_max: chunk::CDC_MAX as u32,
        }
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
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&CONFIG_MAGIC);
        out.extend_from_slice(&REPO_VERSION.to_le_bytes());
        out.extend_from_slice(&postcard::to_stdvec(self).expect("config encodes"));
        out
    }

    /// Parses the config file bytes; `path` names the file in errors.
    pub fn decode(bytes: &[u8], path: &Path) -> Result<RepoConfig> {
        if bytes.len() < 8 || bytes[0..4] != CONFIG_MAGIC {
            return Err(Error::corrupt(path, "not a mailvault repository config"));
        }
        let version = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
        if version != REPO_VERSION {
            return Err(Error::UnsupportedVersion {
                path: path.to_path_buf(),
                found: version,
                supported: REPO_VERSION,
            });
        }
        let config: RepoConfig = postcard::from_bytes(&bytes[8..])
            .map_err(|e| Error::corrupt(path, format!("config: {e}")))?;
        if config.version != version {
            return Err(Error::corrupt(path, "config version fields disagree"));
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
        newer[4] = 2;
        assert!(matches!(
            RepoConfig::decode(&newer, Path::new("config")),
            Err(Error::UnsupportedVersion { found: 2, .. })
        ));
        assert!(matches!(
            RepoConfig::decode(b"garbage!", Path::new("config")),
            Err(Error::Corrupt { .. })
        ));
    }
}
