//! Replays the IMAP golden fixtures (46 tricky messages with
//! Dovecot's FETCH and SEARCH answers) against the real server; see
//! tests/python/golden.py. Differences the fixtures' README allows, or
//! that we chose deliberately, are listed with their reasons in
//! tests/imap-golden-allow.tsv.

mod common;

use std::path::Path;

use common::{PASSWORD, Server};

#[test]
fn fetch_and_search_answers_match_the_golden_fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let fixtures = root.join("tests/fixtures/imap-golden");
    assert!(fixtures.is_dir(), "the fixtures are missing at {}", fixtures.display());
    let server = Server::with_users("");
    let output = std::process::Command::new("python3")
        .arg(root.join("tests/python/golden.py"))
        .arg(&fixtures)
        .arg("alice@example.test")
        .arg(PASSWORD)
        .arg(root.join("tests/imap-golden-allow.tsv"))
        .env("PYTHONPATH", common::clients_dir())
        .env("IMAPS_PORT", server.imaps.port().to_string())
        .output()
        .expect("python3");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(report.contains("0 mismatches"), "{report}");
}
