//! The interpreter against the examples of the Sieve RFCs and the cases
//! around them, as data: `tests/cases/*.cases` (format in `support`).

mod support;

use std::path::Path;

#[test]
fn every_case_gives_its_expected_actions() {
    let cases = support::cases(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases"));
    assert!(cases.len() >= 10, "only {} cases found", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            support::check(case)
                .err()
                .map(|e| format!("{} / {}: {e}", case.file, case.name))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
