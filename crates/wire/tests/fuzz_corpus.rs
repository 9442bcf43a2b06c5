//! Replays the committed corpus and regressions of wire's fuzz targets
//! (`fuzz/corpus/<target>/`, `fuzz/regressions/<target>/`), so an input
//! that once broke a codec stays fixed.

use fuzz_replay::replay;

#[test]
fn smtp_command() {
    replay("smtp_command", wire::fuzz::smtp_command);
}

#[test]
fn smtp_data() {
    replay("smtp_data", wire::fuzz::smtp_data);
}

#[test]
fn smtp_response() {
    replay("smtp_response", wire::fuzz::smtp_response);
}

#[test]
fn imap_command() {
    replay("imap_command", wire::fuzz::imap_command);
}

#[test]
fn pop3_command() {
    replay("pop3_command", wire::fuzz::pop3_command);
}

#[test]
fn pop3_top() {
    replay("pop3_top", wire::fuzz::pop3_top);
}

#[test]
fn xtext() {
    replay("xtext", wire::fuzz::xtext);
}

#[test]
fn imap_utf7() {
    replay("imap_utf7", wire::fuzz::imap_utf7);
}

#[test]
fn imap_string() {
    replay("imap_string", wire::fuzz::imap_string);
}
