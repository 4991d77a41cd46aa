//! The shipped fixtures extract to what their ground truth describes.

mod common;

use std::os::unix::fs::MetadataExt;

#[test]
fn fixture_files_match_truth() {
    for state in ["small-state1", "small-state2"] {
        let dir = common::extract_fixture(state);
        let truth = common::truth(state);
        let files = truth["Files"].as_array().unwrap();
        assert!(!files.is_empty());
        for f in files {
            let rel = f["Path"].as_str().unwrap();
            let meta = std::fs::metadata(dir.path().join("data").join(rel)).unwrap();
            assert_eq!(meta.len(), f["Size"].as_u64().unwrap(), "{state} {rel}");
            assert_eq!(meta.nlink(), f["Nlink"].as_u64().unwrap(), "{state} {rel}");
        }
    }
}
