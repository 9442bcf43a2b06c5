//! Replays the committed corpus and regressions of smtpd's fuzz target,
//! so MAIL or RCPT parameters that once broke the DSN fields stay fixed.

use fuzz_replay::replay;

#[test]
fn smtp_params() {
    replay("smtp_params", smtpd::fuzz::dsn_params);
}
