//! The Authentication-Results header field (RFC 8601): removing the ones
//! that arrive under our name, and writing ours.
//!
//! RFC 8601 §5: a receiver must delete (or rename) any arriving
//! Authentication-Results field whose authserv-id is its own, since only it
//! may speak under that name; otherwise a sender could write
//! "dkim=pass" for us and a mail client that trusts our verdicts would
//! believe it.

use std::net::IpAddr;
use std::ops::Range;

use mail_auth::arc::ArcError;
use mail_auth::dkim::DkimError;
use mail_auth::dmarc::Policy;
use mail_auth::{
    ArcOutput, DkimOutput, DkimResult, DmarcOutput, DmarcResult, Error, IprevOutput, IprevResult, SpfOutput, SpfResult,
};

const FIELD: &[u8] = b"authentication-results";

/// DKIM results written at most: a message may carry any number of
/// signatures, the header should stay readable (each is still verified
/// within the time budget).
const MAX_DKIM_RESULTS: usize = 16;

/// One Authentication-Results field being written: our authserv-id, then
/// one `method=result (reason) ptype.property=value` per check (RFC 8601
/// §2.2), each on its own folded line.
pub struct ResultsHeader {
    text: String,
    methods: usize,
    dkim_left_out: usize,
}

impl ResultsHeader {
    pub fn new(authserv_id: &str) -> Self {
        ResultsHeader {
            text: format!("Authentication-Results: {}", sanitize(authserv_id)),
            methods: 0,
            dkim_left_out: 0,
        }
    }

    fn method(&mut self, method: &str, result: &str, reason: Option<String>) {
        self.methods += 1;
        self.text.push_str(&format!(";\r\n\t{method}={result}"));
        if let Some(reason) = reason {
            self.text.push_str(&format!(" ({})", comment(&reason)));
        }
    }

    fn property(&mut self, name: &str, value: &str) {
        self.text.push_str(&format!(" {name}={}", pvalue(value)));
    }

    /// SPF for the HELO identity (`smtp.helo`) or MAIL FROM (`smtp.mailfrom`).
    pub fn spf(&mut self, output: &SpfOutput, property: &str, identity: &str) {
        let result = match output.result() {
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::Neutral => "neutral",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
            SpfResult::None => "none",
        };
        self.method("spf", result, None);
        self.property(property, identity);
    }

    /// One DKIM signature's result (RFC 8601 §2.7.1: `header.d`,
    /// `header.s`, and `header.i` when the signature names one).
    pub fn dkim(&mut self, output: &DkimOutput<'_>) {
        if self.dkim_left_out > 0 || self.text.matches("dkim=").count() >= MAX_DKIM_RESULTS {
            self.dkim_left_out += 1;
            return;
        }
        let (result, reason) = dkim_result(output.result());
        self.method("dkim", result, reason.map(Error::to_string));
        if let Some(signature) = output.signature() {
            self.property("header.d", &signature.d);
            self.property("header.s", &signature.s);
            if !signature.i.is_empty() {
                self.property("header.i", &signature.i);
            }
        }
    }

    /// ARC chain validation (RFC 8617 §10.1): `smtp.remote-ip` is the
    /// client the chain was handed over by.
    pub fn arc(&mut self, output: &ArcOutput<'_>, ip: IpAddr) {
        let (result, reason) = dkim_result(output.result());
        self.method("arc", result, reason.map(Error::to_string));
        self.property("smtp.remote-ip", &ip.to_string());
    }

    /// DMARC (RFC 7489 §11.2): the author domain and its policy.
    pub fn dmarc(&mut self, output: &DmarcOutput) {
        self.dmarc_with(output, None);
    }

    /// DMARC failed but its policy was not applied (RFC 7489 §6.7): the
    /// result stays `fail`, and `reason` (RFC 8601 §2.2 `reasonspec`) says
    /// why the message was delivered anyway.
    pub fn dmarc_overridden(&mut self, output: &DmarcOutput, reason: &str) {
        self.dmarc_with(output, Some(reason));
    }

    fn dmarc_with(&mut self, output: &DmarcOutput, overridden: Option<&str>) {
        let (result, reason) = match output.result() {
            DmarcResult::Pass => ("pass", None),
            DmarcResult::Fail(e) => ("fail", Some(e)),
            DmarcResult::TempError(e) => ("temperror", Some(e)),
            DmarcResult::PermError(e) => ("permerror", Some(e)),
            DmarcResult::None => ("none", None),
        };
        self.method("dmarc", result, reason.map(|e| e.to_string()));
        if let Some(overridden) = overridden {
            self.text.push_str(&format!(" reason={}", pvalue(overridden)));
        }
        self.property("header.from", output.domain());
        let policy = match output.policy() {
            Policy::Reject => "reject",
            Policy::Quarantine => "quarantine",
            Policy::None | Policy::Unspecified => "none",
        };
        self.property("policy.dmarc", policy);
    }

    /// iprev (RFC 8601 §3): the client's address and its confirmed name.
    pub fn iprev(&mut self, output: &IprevOutput, ip: IpAddr) {
        let (result, reason) = match &output.result {
            IprevResult::Pass => ("pass", None),
            IprevResult::Fail(e) => ("fail", Some(e)),
            IprevResult::TempError(e) => ("temperror", Some(e)),
            IprevResult::PermError(e) => ("permerror", Some(e)),
            IprevResult::None => ("none", None),
        };
        let name = output
            .ptr
            .as_ref()
            .and_then(|names| names.first())
            .map(|n| n.to_string());
        let reason = match (result, name) {
            ("pass", Some(name)) => Some(name.trim_end_matches('.').to_string()),
            // mail-auth says "policy not aligned" for a name whose
            // addresses do not include the client's.
            (_, _) if reason == Some(&Error::NotAligned) => Some("reverse name does not resolve back".into()),
            _ => reason.map(Error::to_string),
        };
        self.method("iprev", result, reason);
        self.property("policy.iprev", &ip.to_string());
    }

    /// The field with its CRLF; `none` if no method ran (RFC 8601 §2.2).
    pub fn finish(mut self) -> String {
        if self.methods == 0 {
            self.text.push_str("; none");
        }
        if self.dkim_left_out > 0 {
            let more = self.dkim_left_out;
            self.text
                .push_str(&format!("\r\n\t({more} more DKIM signatures not listed)"));
        }
        self.text.push_str("\r\n");
        self.text
    }
}

/// A DKIM or ARC result as RFC 8601 §2.7.1 and RFC 8617 §10.1 spell it,
/// with its reason. mail-auth calls a body hash mismatch `neutral`; it is
/// a verification failure (RFC 6376 §3.9: PERMFAIL, "body hash did not
/// verify"; RFC 8617 §5.2: a broken chain), so `fail`.
fn dkim_result(result: &DkimResult) -> (&'static str, Option<&Error>) {
    match result {
        DkimResult::Pass => ("pass", None),
        DkimResult::Neutral(
            e @ (Error::Dkim(DkimError::FailedBodyHashMatch) | Error::Arc(ArcError::FailedBodyHashMatch)),
        ) => ("fail", Some(e)),
        DkimResult::Neutral(e) => ("neutral", Some(e)),
        DkimResult::Fail(e) => ("fail", Some(e)),
        DkimResult::PermError(e) => ("permerror", Some(e)),
        DkimResult::TempError(e) => ("temperror", Some(e)),
        DkimResult::None => ("none", None),
    }
}

/// A property value: as it is when it is a plain token or address, else a
/// quoted string (RFC 8601 §2.2, RFC 2045 `value`).
fn pvalue(value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`{|}~@".contains(c) || !c.is_ascii());
    if plain && !value.chars().any(char::is_control) {
        return value.to_string();
    }
    let mut escaped = String::new();
    for c in sanitize(value).chars() {
        if matches!(c, '"' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    format!("\"{escaped}\"")
}

/// Text from outside (an address, an error) without line breaks or
/// control characters, at most 200 characters: it must not end our header
/// field or start another.
fn sanitize(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Comment text: parentheses and backslashes taken out, so it cannot
/// close the comment early (RFC 5322 §3.2.2).
fn comment(text: &str) -> String {
    sanitize(text)
        .chars()
        .filter(|c| !matches!(c, '(' | ')' | '\\'))
        .collect()
}

/// `message` without the Authentication-Results fields of its header
/// section whose authserv-id is `authserv_id` (compared without case, RFC
/// 8601 §2.5). Fields of other authserv-ids and the body are kept as they
/// are. Linear in the header size.
pub fn remove_ours(message: &[u8], authserv_id: &str) -> Vec<u8> {
    let mut kept = message.to_vec();
    strip_ours(&mut kept, authserv_id);
    kept
}

/// `remove_ours` in place; a message without such fields (nearly every
/// one) is not copied.
pub fn strip_ours(message: &mut Vec<u8>, authserv_id: &str) {
    let forged: Vec<Range<usize>> = header_fields(message)
        .filter(|field| is_ours(&message[field.clone()], authserv_id))
        .collect();
    // From the last, so the earlier ranges stay where they are.
    for range in forged.into_iter().rev() {
        message.drain(range);
    }
}

/// The byte ranges of the header fields of `message`, each with its folded
/// continuation lines (RFC 5322 §2.2.3) and line ending; the header ends
/// at the first empty line.
pub(crate) fn header_fields(message: &[u8]) -> impl Iterator<Item = Range<usize>> + '_ {
    imf::field_spans(message).map(|(_, span)| span)
}

/// Whether `field` is an Authentication-Results field under `authserv_id`.
pub(crate) fn is_ours(field: &[u8], authserv_id: &str) -> bool {
    let Some(colon) = field.iter().position(|&b| b == b':') else {
        return false;
    };
    if !field[..colon].trim_ascii_end().eq_ignore_ascii_case(FIELD) {
        return false;
    }
    let value = skip_cfws(&field[colon + 1..]);
    // authserv-id is a value (RFC 8601 §2.2): a token or a quoted string.
    let id: Vec<u8> = if let Some(quoted) = value.strip_prefix(b"\"") {
        quoted.iter().take_while(|&&b| b != b'"').copied().collect()
    } else {
        value
            .iter()
            .take_while(|&&b| !matches!(b, b';' | b'(' | b' ' | b'\t' | b'\r' | b'\n'))
            .copied()
            .collect()
    };
    id.eq_ignore_ascii_case(authserv_id.as_bytes())
}

/// `value` after leading white space, line folds and comments (RFC 5322
/// §3.2.2), nested comments included.
fn skip_cfws(mut value: &[u8]) -> &[u8] {
    loop {
        value = value.trim_ascii_start();
        if !value.starts_with(b"(") {
            return value;
        }
        value = &value[comment_end(value, 0)..];
    }
}

/// Where the comment starting at `start` ends (after its `)`), nested
/// comments and quoted pairs included; the end of `value` if it never
/// closes.
pub(crate) fn comment_end(value: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut escaped = false;
    for (i, &b) in value.iter().enumerate().skip(start) {
        match b {
            _ if escaped => escaped = false,
            b'\\' => escaped = true,
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_one_field_with_every_method_and_its_properties() {
        let mut header = ResultsHeader::new("mx.example.test");
        let spf = SpfOutput::new("sender.test".into()).with_result(SpfResult::Fail);
        header.spf(&spf, "smtp.mailfrom", "a@sender.test");
        header.spf(&SpfOutput::new("h.test".into()), "smtp.helo", "h.test");
        header.dkim(&DkimOutput::neutral(Error::Dkim(DkimError::FailedBodyHashMatch)));
        let dmarc = DmarcOutput::new("author.test".into()).with_spf_result(DmarcResult::Pass);
        header.dmarc(&dmarc);
        let iprev = IprevOutput {
            result: IprevResult::None,
            ptr: None,
        };
        header.iprev(&iprev, "192.0.2.1".parse().unwrap());
        assert_eq!(
            header.finish(),
            "Authentication-Results: mx.example.test;\r\n\
\tspf=fail smtp.mailfrom=a@sender.test;\r\n\
\tspf=none smtp.helo=h.test;\r\n\
\tdkim=fail (Calculated body hash does not match signature hash);\r\n\
\tdmarc=pass header.from=author.test policy.dmarc=none;\r\n\
\tiprev=none policy.iprev=192.0.2.1\r\n"
        );
        assert_eq!(
            ResultsHeader::new("mx.example.test").finish(),
            "Authentication-Results: mx.example.test; none\r\n"
        );
    }

    #[test]
    fn outside_text_cannot_break_out_of_the_field() {
        let mut header = ResultsHeader::new("mx.example.test");
        let spf = SpfOutput::new("x".into());
        header.spf(
            &spf,
            "smtp.mailfrom",
            "\"evil\r\nAuthentication-Results: mx.example.test; dkim=pass\"@x",
        );
        header.method("x", "y", Some("a) b\r\nc(".into()));
        let text = header.finish();
        assert_eq!(text.matches("\r\n").count(), 3, "{text}");
        assert!(
            text.contains("smtp.mailfrom=\"\\\"evilAuthentication-Results: mx.example.test; dkim=pass\\\"@x\""),
            "{text}"
        );
        assert!(text.contains("x=y (a bc)"), "{text}");
    }

    #[test]
    fn an_overridden_dmarc_failure_stays_a_failure_and_says_why() {
        let mut header = ResultsHeader::new("mx.example.test");
        let dmarc = DmarcOutput::new("bank.test".into())
            .with_spf_result(DmarcResult::Fail(Error::NotAligned))
            .with_dkim_result(DmarcResult::Fail(Error::NotAligned));
        header.dmarc_overridden(&dmarc, "arc override: trusted forwarder \"l\"\r\n at i=1");
        assert_eq!(
            header.finish(),
            "Authentication-Results: mx.example.test;\r\n\
\tdmarc=fail (Policy not aligned) reason=\"arc override: trusted forwarder \\\"l\\\" at i=1\" \
header.from=bank.test policy.dmarc=none\r\n"
        );
    }

    const US: &str = "mx.example.test";

    #[test]
    fn removes_ours_in_any_case_and_folding_and_keeps_others() {
        let message = b"Authentication-Results: mx.example.test; dkim=pass\r\n\
Subject: hi\r\n\
authentication-results:\r\n\t(forged) MX.Example.TEST;\r\n\tspf=pass smtp.mailfrom=a@b\r\n\
Authentication-Results: other.test; dkim=fail\r\n\
AUTHENTICATION-RESULTS : \"mx.example.test\"; dmarc=pass\r\n\
Authentication-Results: mx.example.test.evil; none\r\n\
\r\n\
Authentication-Results: mx.example.test; body lines stay\r\n";
        let kept = String::from_utf8(remove_ours(message, US)).unwrap();
        assert_eq!(
            kept,
            "Subject: hi\r\n\
Authentication-Results: other.test; dkim=fail\r\n\
Authentication-Results: mx.example.test.evil; none\r\n\
\r\n\
Authentication-Results: mx.example.test; body lines stay\r\n"
        );
    }

    #[test]
    fn leaves_a_message_without_ours_alone() {
        let message = b"From: a@b\nAuthentication-Results: x.test; none\n\nbody";
        assert_eq!(remove_ours(message, US), message.to_vec());
        assert_eq!(remove_ours(b"", US), b"".to_vec());
        assert_eq!(remove_ours(b"No-Colon-Or-End", US), b"No-Colon-Or-End".to_vec());
    }

    #[test]
    fn a_comment_that_never_closes_is_not_ours() {
        let message = b"Authentication-Results: (mx.example.test; dkim=pass\r\n\r\n";
        assert_eq!(remove_ours(message, US), message.to_vec());
    }
}
