//! Replays a fuzz target's committed inputs on stable Rust (a
//! dev-dependency only, never published). The crates that hold fuzz entry
//! points call [`replay`] from their `tests/fuzz_corpus.rs`, so every seed
//! in `fuzz/corpus/<target>/` and every input a campaign once found
//! failing, kept in `fuzz/regressions/<target>/`, goes through exactly the
//! checks the fuzzer ran, in every `cargo test`.

#![forbid(unsafe_code)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The repository's `fuzz/` directory.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// Runs `check` on every file of the target's corpus and regressions and
/// fails naming each input that panics. The corpus must not be empty; the
/// regressions directory exists once a campaign has found something.
pub fn replay(target: &str, check: fn(&[u8])) {
    let corpus = inputs(&fuzz_dir().join("corpus").join(target));
    assert!(!corpus.is_empty(), "fuzz/corpus/{target} has no seeds");
    let regressions = inputs(&fuzz_dir().join("regressions").join(target));
    let failed: Vec<String> = corpus
        .iter()
        .chain(&regressions)
        .filter(|path| {
            let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "{target}: these inputs fail: {failed:#?}");
}

/// The regular files of `dir` in name order (none if it does not exist);
/// dot files such as `.gitkeep` and README files are not inputs.
pub fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable directory").path())
        .filter(|path| path.is_file())
        .filter(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && !name.starts_with("README")
        })
        .collect();
    files.sort();
    files
}
