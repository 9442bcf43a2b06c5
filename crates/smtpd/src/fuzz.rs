//! Entry point for the `smtp_params` fuzz target in `fuzz/`, kept here so
//! that `cargo test` replays its committed corpus on stable Rust: the
//! parameters of MAIL and RCPT, above all the DSN fields (RFC 3461 §4)
//! that travel with a message to the next hop and back in its reports.

use wire::smtp::{Command, encode_xtext, parse_command};

use crate::params::{mail_params, rcpt_params};

/// The input is the parameter text of a MAIL and of a RCPT command. What
/// the session accepts holds no control character, and written again as
/// postamt's SMTP client writes it for the next hop (RFC 3461 §4.2-4.4)
/// it reads back as the same parameters.
pub fn dsn_params(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let line = text.lines().next().unwrap_or_default();
    mail_round_trip(line);
    rcpt_round_trip(line);
}

/// MAIL's parameters, read and written again.
fn mail_round_trip(line: &str) {
    let Some(Ok(parsed)) = parameters(&format!("MAIL FROM:<a@origin.test> {line}"))
        .map(|params| mail_params(&params, 10 << 20, true, true))
    else {
        return;
    };
    let envid = parsed.envid.as_deref().unwrap_or_default();
    assert!(!envid.chars().any(char::is_control), "{envid:?}");
    let mut again = String::from("MAIL FROM:<a@origin.test>");
    if let Some(size) = parsed.size {
        again.push_str(&format!(" SIZE={size}"));
    }
    again.push_str(&format!(" BODY={}", parsed.body));
    if parsed.smtputf8 {
        again.push_str(" SMTPUTF8");
    }
    if parsed.require_tls {
        again.push_str(" REQUIRETLS");
    }
    if let Some(ret) = parsed.ret {
        again.push_str(&format!(" RET={ret}"));
    }
    if let Some(envid) = &parsed.envid {
        again.push_str(&format!(" ENVID={}", encode_xtext(envid)));
    }
    let reread = parameters(&again).map(|p| mail_params(&p, 10 << 20, true, true));
    assert_eq!(reread, Some(Ok(parsed)), "{again}");
}

/// RCPT's parameters, read and written again.
fn rcpt_round_trip(line: &str) {
    let Some(Ok(parsed)) =
        parameters(&format!("RCPT TO:<r@remote.test> {line}")).map(|params| rcpt_params(&params, true))
    else {
        return;
    };
    let orcpt = parsed.orcpt.as_deref().unwrap_or_default();
    assert!(!orcpt.chars().any(char::is_control), "{orcpt:?}");
    let mut again = String::from("RCPT TO:<r@remote.test>");
    if let Some(notify) = parsed.notify {
        again.push_str(&format!(" NOTIFY={notify}"));
    }
    if let Some((kind, address)) = parsed.orcpt.as_deref().and_then(|o| o.split_once(';')) {
        again.push_str(&format!(" ORCPT={kind};{}", encode_xtext(address)));
    }
    let reread = parameters(&again).map(|p| rcpt_params(&p, true));
    assert_eq!(reread, Some(Ok(parsed)), "{again}");
}

/// The parameters of one MAIL or RCPT command line, if it parses.
fn parameters(line: &str) -> Option<Vec<wire::smtp::Param>> {
    match parse_command(format!("{line}\r\n").as_bytes(), 4096) {
        Ok((Command::Mail { params, .. } | Command::Rcpt { params, .. }, _)) => Some(params),
        _ => None,
    }
}
