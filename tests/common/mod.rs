//! Helpers shared by the integration tests: the mox fixtures, extracted fresh per test.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The directory holding the shipped fixtures.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Extracts `tests/fixtures/<name>.tar.zst` (e.g. `small-state1`) into a new temporary
/// directory and returns it; the tree holds `config/` and `data/`. Hardlinks are kept.
pub fn extract_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    extract_fixture_into(name, dir.path());
    dir
}

/// Extracts a fixture into an existing directory.
pub fn extract_fixture_into(name: &str, dest: &Path) {
    let path = fixtures_dir().join(format!("{name}.tar.zst"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let decoder = zstd::Decoder::new(file).expect("zstd decoder");
    let mut archive = tar::Archive::new(decoder);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.unpack(dest).expect("unpack fixture");
}

/// The ground truth JSON of a fixture state (`small-state1` → `small-state1.truth.json`).
pub fn truth(name: &str) -> serde_json::Value {
    let path = fixtures_dir().join(format!("{name}.truth.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("truth json")
}

/// A mox installation at a fixed path whose contents can be replaced by another fixture state,
/// as a server's data directory changes from one night to the next.
pub struct Installation {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
}

impl Installation {
    pub fn new(state: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mox");
        std::fs::create_dir(&root).unwrap();
        extract_fixture_into(state, &root);
        Installation { _dir: dir, root }
    }

    pub fn switch_to(&self, state: &str) {
        std::fs::remove_dir_all(&self.root).unwrap();
        std::fs::create_dir(&self.root).unwrap();
        extract_fixture_into(state, &self.root);
    }

    pub fn data(&self) -> PathBuf {
        self.root.join("data")
    }
}
