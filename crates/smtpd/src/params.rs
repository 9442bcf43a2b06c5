//! The ESMTP parameters of MAIL and RCPT that this server honours: SIZE
//! (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531), AUTH (RFC
//! 4954 §5), REQUIRETLS (RFC 8689) and the DSN parameters RET, ENVID,
//! NOTIFY and ORCPT (RFC 3461).

use wire::smtp::{BodyType, DsnReturn, Notify, Param, Reply, decode_xtext};

/// What MAIL FROM declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MailParams {
    pub size: Option<u64>,
    pub body: BodyType,
    pub smtputf8: bool,
    pub ret: Option<DsnReturn>,
    pub envid: Option<String>,
    /// REQUIRETLS (RFC 8689 §2).
    pub require_tls: bool,
}

/// RFC 3461 §4.4: ENVID is at most 100 characters.
const MAX_ENVID: usize = 100;
/// RFC 3461 §4.2: the ORCPT parameter is at most 500 characters.
const MAX_ORCPT: usize = 500;

/// RFC 3461 §4.4: a decoded ENVID is printable US-ASCII. Nothing else may
/// pass, above all no CR or LF: the value is written into the reports we
/// send, where a line break would start a field of the client's choosing.
fn is_printable_ascii(text: &[u8]) -> bool {
    text.iter().all(|b| (b' '..=b'~').contains(b))
}

/// RFC 3461 §4.2: ORCPT is `addr-type ";" xtext`, its address printable
/// US-ASCII once decoded (a space too: a quoted local part may hold one);
/// the `utf-8` type of RFC 6533 §3 also carries UTF-8. Never a control
/// character, above all no CR or LF.
fn orcpt(value: &str) -> Option<String> {
    if value.len() > MAX_ORCPT {
        return None;
    }
    let (kind, address) = value.split_once(';')?;
    let kind = kind.to_ascii_lowercase();
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let address = String::from_utf8(decode_xtext(address)?).ok()?;
    let utf8 = kind == "utf-8";
    let allowed = |c: char| c == ' ' || c.is_ascii_graphic() || (utf8 && !c.is_ascii() && !c.is_control());
    (!address.is_empty() && address.chars().all(allowed)).then(|| format!("{kind};{address}"))
}

fn bad(text: impl Into<String>) -> Reply {
    Reply::new(501, "5.5.4", text)
}

fn unsupported(keyword: &str) -> Reply {
    Reply::new(555, "5.5.4", format!("Unsupported parameter {keyword}"))
}

/// RFC 8689 §2: REQUIRETLS belongs to a session under TLS, the only one
/// where it is offered. The RFC names no reply for it in the clear; this
/// is RFC 3207 §4's 530 for "TLS first", with X.7.10 "Encryption Needed"
/// from the RFC 5248 registry.
fn requiretls_needs_tls() -> Reply {
    Reply::new(530, "5.7.10", "REQUIRETLS needs a TLS session: STARTTLS first")
}

/// Reads MAIL parameters; an error is the reply to send. `dsn` says
/// whether the DSN parameters are offered to this client, `tls` whether
/// the session is under TLS (and so offers REQUIRETLS).
pub(crate) fn mail_params(params: &[Param], max_size: usize, dsn: bool, tls: bool) -> Result<MailParams, Reply> {
    let mut parsed = MailParams::default();
    let mut seen = Vec::new();
    for Param { keyword, value } in params {
        if seen.contains(&keyword) {
            return Err(bad(format!("Duplicate parameter {keyword}")));
        }
        seen.push(keyword);
        let value = value.as_deref();
        match (keyword.as_str(), value) {
            ("RET" | "ENVID", _) if !dsn => return Err(unsupported(keyword)),
            ("SIZE", Some(v)) => {
                let size = v.parse::<u64>().map_err(|_| bad("Bad SIZE value"))?;
                if size > max_size as u64 {
                    // RFC 1870 §6.2: refused at MAIL, before any data.
                    metrics::SMTP_REFUSED.inc("size");
                    return Err(Reply::new(
                        552,
                        "5.3.4",
                        "Message size exceeds fixed maximum message size",
                    ));
                }
                parsed.size = Some(size);
            }
            ("BODY", Some(v)) => {
                parsed.body = BodyType::parse(v).ok_or_else(|| bad("Unsupported BODY type"))?;
            }
            ("SMTPUTF8", None) => parsed.smtputf8 = true,
            ("REQUIRETLS", None) if tls => parsed.require_tls = true,
            ("REQUIRETLS", None) => return Err(requiretls_needs_tls()),
            // RFC 8689 §2: no value is associated with it.
            ("REQUIRETLS", Some(_)) => return Err(bad("REQUIRETLS takes no value")),
            ("RET", Some(v)) => {
                parsed.ret = Some(DsnReturn::parse(v).ok_or_else(|| bad("RET must be FULL or HDRS"))?);
            }
            ("ENVID", Some(v)) => {
                let decoded = decode_xtext(v).filter(|d| d.len() <= MAX_ENVID && is_printable_ascii(d));
                let text = decoded.and_then(|d| String::from_utf8(d).ok());
                parsed.envid = Some(text.ok_or_else(|| bad("Bad ENVID value"))?);
            }
            // RFC 4954 §5: accepted, and not trusted (we know who
            // authenticated).
            ("AUTH", Some(_)) => {}
            (keyword, _) => return Err(unsupported(keyword)),
        }
    }
    Ok(parsed)
}

/// What RCPT TO declared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RcptParams {
    pub notify: Option<Notify>,
    pub orcpt: Option<String>,
}

/// Reads RCPT parameters; an error is the reply to send. `dsn` says
/// whether the DSN parameters are offered to this client.
pub(crate) fn rcpt_params(params: &[Param], dsn: bool) -> Result<RcptParams, Reply> {
    let mut parsed = RcptParams::default();
    for Param { keyword, value } in params {
        match (keyword.as_str(), value.as_deref()) {
            ("NOTIFY" | "ORCPT", _) if !dsn => return Err(unsupported(keyword)),
            ("NOTIFY", Some(v)) if parsed.notify.is_none() => {
                // RFC 3461 §4.1: NEVER stands alone.
                let notify = Notify::parse(v);
                parsed.notify =
                    Some(notify.ok_or_else(|| bad("NOTIFY must be NEVER or a list of SUCCESS, FAILURE, DELAY"))?);
            }
            ("ORCPT", Some(v)) if parsed.orcpt.is_none() => {
                parsed.orcpt = Some(orcpt(v).ok_or_else(|| bad("Bad ORCPT value"))?);
            }
            ("NOTIFY" | "ORCPT", _) => return Err(bad(format!("Bad or repeated {keyword}"))),
            (keyword, _) => return Err(unsupported(keyword)),
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(text: &str) -> Vec<Param> {
        text.split(' ')
            .map(|w| match w.split_once('=') {
                Some((k, v)) => Param {
                    keyword: k.into(),
                    value: Some(v.into()),
                },
                None => Param {
                    keyword: w.into(),
                    value: None,
                },
            })
            .collect()
    }

    #[test]
    fn reads_mail_parameters() {
        let parsed = mail_params(
            &params("SIZE=100 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=QQ+2B1 AUTH=<>"),
            1000,
            true,
            true,
        )
        .unwrap();
        assert_eq!(parsed.size, Some(100));
        assert_eq!(parsed.body, BodyType::EightBitMime);
        assert!(parsed.smtputf8);
        assert_eq!(parsed.ret, Some(DsnReturn::Headers));
        assert_eq!(parsed.envid.as_deref(), Some("QQ+1"));
        assert!(!parsed.require_tls);
    }

    #[test]
    fn requiretls_only_under_tls_once_and_without_value() {
        let parsed = mail_params(&params("REQUIRETLS SIZE=10"), 1000, false, true).unwrap();
        assert!(parsed.require_tls);
        let refused = mail_params(&params("REQUIRETLS"), 1000, true, false).unwrap_err();
        assert_eq!((refused.code, refused.status), (530, Some("5.7.10")));
        let code = |text: &str| mail_params(&params(text), 1000, true, true).unwrap_err().code;
        assert_eq!(code("REQUIRETLS REQUIRETLS"), 501);
        assert_eq!(code("REQUIRETLS=YES"), 501);
    }

    #[test]
    fn refuses_bad_mail_parameters() {
        let code = |text: &str| mail_params(&params(text), 1000, true, true).unwrap_err().code;
        assert_eq!(code("SIZE=1001"), 552);
        assert_eq!(code("SIZE=x"), 501);
        assert_eq!(code("BODY=9BIT"), 501);
        assert_eq!(code("RET=ALL"), 501);
        assert_eq!(code("ENVID=a=b"), 501);
        // Decoded CR, LF or other controls would end up in our reports.
        assert_eq!(code("ENVID=x+0D+0AX-Injected:+20yes"), 501);
        assert_eq!(code("ENVID=x+0Ay"), 501);
        assert_eq!(code("ENVID=x+00"), 501);
        assert_eq!(code(&format!("ENVID={}", "a".repeat(101))), 501);
        assert_eq!(code("SIZE=1 SIZE=2"), 501);
        assert_eq!(code("SMTPUTF8=yes"), 555);
        assert_eq!(code("XFOO=1"), 555);
    }

    #[test]
    fn dsn_parameters_only_where_offered() {
        for text in ["RET=FULL", "ENVID=x"] {
            assert_eq!(
                mail_params(&params(text), 1000, false, true).unwrap_err().code,
                555,
                "{text}"
            );
        }
        for text in ["NOTIFY=SUCCESS", "ORCPT=rfc822;a@b.test"] {
            assert_eq!(rcpt_params(&params(text), false).unwrap_err().code, 555, "{text}");
        }
        assert!(mail_params(&params("SIZE=10 BODY=8BITMIME"), 1000, false, true).is_ok());
    }

    #[test]
    fn reads_rcpt_parameters() {
        let parsed = rcpt_params(&params("NOTIFY=success,FAILURE ORCPT=rfc822;a+2Bb@x.test"), true).unwrap();
        assert_eq!(parsed.notify.map(|n| n.to_string()).as_deref(), Some("SUCCESS,FAILURE"));
        assert_eq!(parsed.orcpt.as_deref(), Some("rfc822;a+b@x.test"));
        // A quoted local part may hold a space (as Postfix sends it).
        let parsed = rcpt_params(&params("ORCPT=rfc822;+22john+20smith+22@x.test"), true).unwrap();
        assert_eq!(parsed.orcpt.as_deref(), Some("rfc822;\"john smith\"@x.test"));
        let parsed = rcpt_params(&params("ORCPT=UTF-8;j+C3+BCrgen@b.test"), true).unwrap();
        assert_eq!(parsed.orcpt.as_deref(), Some("utf-8;jürgen@b.test"));
        let long = format!("ORCPT=rfc822;{}@b.test", "a".repeat(490));
        assert!(rcpt_params(&params(&long), true).is_err());
        for bad in [
            "NOTIFY=NEVER,SUCCESS",
            "NOTIFY=SOMETIMES",
            "ORCPT=nosemicolon",
            "ORCPT=rfc822;",
            "ORCPT=rfc822;a@b.test+0D+0AAction:+20delivered",
            "ORCPT=rfc822;a@b.test+0A",
            "ORCPT=utf-8;a@b.test+0D",
            "ORCPT=rfc+0A822;a@b.test",
            "ORCPT=rfc822;j+C3+BCrgen@b.test",
            "XFOO",
        ] {
            assert!(rcpt_params(&params(bad), true).is_err(), "{bad}");
        }
    }
}
