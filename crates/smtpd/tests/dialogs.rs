//! Replays every SMTP dialog in `tests/dialogs/*.dialog` against a real
//! session over an in-memory pipe. The session is the unit under test; the
//! store and queue behind it are the small in-memory backend in
//! `support/backend.rs`. docs/design.md ("## Tests") describes the format.

mod support;

use std::path::Path;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dialog_file() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dialogs");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/dialogs exists")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "dialog"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no dialog files in {}", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let text = std::fs::read_to_string(file).expect("dialog file is readable");
        if let Err(failure) = support::dialog::run(&text).await {
            failures.push(format!("{name}: {failure}"));
        }
    }
    println!("{} dialogs replayed, {} failed", files.len(), failures.len());
    assert!(failures.is_empty(), "failed dialogs:\n{}", failures.join("\n"));
}
