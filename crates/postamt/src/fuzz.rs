//! Entry points for the `config` and `tls_report` fuzz targets in
//! `fuzz/`, kept here so that `cargo test` replays their committed corpus
//! on stable Rust. Whatever the text of a config file, reading and checking it either fails with a
//! message or gives a config every server can be built from, never a
//! panic. The text of a config file is the administrator's, but it is
//! also what `postamt setup` and packaging tools write and what a typo
//! turns into: a crash there would leave a mail server down with no word.

use std::path::Path;

use crate::config::Config;

/// Checks one input; a violated property panics.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Sizes are read where the TOML has a string (quota, limits).
    let _ = crate::quota_settings::parse_size(text);
    let Ok(config) = Config::parse(text, Path::new("/etc/postamt")) else {
        return;
    };
    if config.validate().is_err() {
        return;
    }
    // A valid config builds every part of the server.
    assert!(
        config.smtp().is_ok(),
        "a config that validates cannot build its SMTP servers"
    );
    let _ = config.pop3();
    let _ = config.managesieve();
    let _ = config.imap();
    let _ = config.throttle();
    let _ = config.store_options();
    let _ = config.store_location();
    let _ = config.node_id();
    let _ = config.server.stop_timeout();
}

/// A TLS report message (RFC 8460 §5.3) as anyone may mail it to the
/// address our `_smtp._tls` record names: read or refused with a reason,
/// never a panic, and never more JSON than the bound (a gzip bomb stops
/// there). The same bytes as a `_smtp._tls` TXT record of a domain we
/// report to (§3) are read without panic.
pub fn tls_report(data: &[u8]) {
    let _ = crate::tls_reports::parse_rua(&[String::from_utf8_lossy(data).into_owned()]);
    if let Err(reason) = crate::tls_reports::parse_message(data) {
        assert!(!reason.is_empty());
    }
}
