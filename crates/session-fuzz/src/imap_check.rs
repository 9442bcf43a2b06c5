//! The IMAP session's invariants, checked over a transcript.
//!
//! IMAP lets a server answer some commands out of order (RFC 9051 §5.5),
//! and which client bytes are commands depends on the server's answers
//! (a refused literal's bytes are read as commands), so the checks count
//! rather than pair:
//!
//! - Every response is untagged (`* `), a continuation (`+`) or tagged
//!   with `OK`, `NO` or `BAD` (RFC 9051 §7); literals in responses are
//!   skipped by their length.
//! - A tagged response's tag was sent at the start of a client line, in
//!   the same step or before, and no tag is answered more often than it
//!   was sent (RFC 9051 §2.2.2: one tagged response per command).
//! - Nothing follows the `* BYE` but the tagged response of the LOGOUT
//!   that asked for it (RFC 9051 §6.1.3, §7.1.5).
//! - No more continuations than the client sent reasons for one: a
//!   synchronizing literal, an IDLE, an AUTHENTICATE (RFC 9051 §7.5).
//! - Once the session has ended without a BYE (so the server read all
//!   the client sent), every command line with a tag got its tagged
//!   response, as far as the client's bytes are plain command lines: the
//!   check stops at the first literal, IDLE, AUTHENTICATE, COMPRESS or
//!   STARTTLS, whose following bytes the server may read otherwise.
//!
//! After the tagged OK to COMPRESS the streams are DEFLATE (RFC 4978);
//! nothing after it is checked.

use std::collections::HashMap;

use crate::transcript::{Transcript, Violation, violation};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Untagged,
    Continuation,
    Tagged(Vec<u8>),
}

#[derive(Debug, Clone)]
struct Response {
    kind: Kind,
    /// The first line, for messages.
    text: String,
    step: usize,
}

/// A client line's first two words and the step it was sent in.
#[derive(Debug, Clone)]
struct ClientLine {
    tag: Vec<u8>,
    verb: String,
    step: usize,
    /// Whether every line up to this one was a plain command line (see
    /// the module's comment).
    plain: bool,
}

/// Whether `tag` is one (RFC 9051 §9: `1*<any ASTRING-CHAR except "+">`).
fn is_tag(tag: &[u8]) -> bool {
    !tag.is_empty() && tag.iter().all(|&b| b > b' ' && b < 0x7f && !b"(){%*\"\\+".contains(&b))
}

/// The client's lines (every LF starts one, literal contents included:
/// that only allows more).
fn client_lines(t: &Transcript) -> Vec<ClientLine> {
    let client = t.client();
    let mut lines = Vec::new();
    let mut plain = true;
    let mut start = 0;
    while start < client.len() {
        let Some(end) = client[start..].iter().position(|&b| b == b'\n').map(|e| start + e) else {
            break;
        };
        let line = &client[start..end];
        let mut words = line.split(|&b| b == b' ');
        let tag = words.next().unwrap_or_default().to_vec();
        let verb = String::from_utf8_lossy(words.next().unwrap_or_default())
            .trim_end()
            .to_ascii_uppercase();
        let special = ["IDLE", "AUTHENTICATE", "COMPRESS", "STARTTLS"].contains(&verb.as_str());
        plain = plain && !special && !line.contains(&b'{') && line.is_ascii() && line.len() < 1000;
        lines.push(ClientLine {
            tag,
            verb,
            step: t.client_step(end),
            plain,
        });
        start = end + 1;
    }
    lines
}

/// Reasons for a continuation the client gave by the end of each step.
fn continuation_reasons(t: &Transcript, lines: &[ClientLine]) -> Vec<usize> {
    let client = t.client();
    let mut per_step = vec![0usize; t.steps.len()];
    for line in lines {
        if line.verb == "IDLE" || line.verb == "AUTHENTICATE" {
            per_step[line.step] += 1;
        }
    }
    // A synchronizing literal: `{n}` (not `{n+}`) at a line's end (CRLF,
    // or the bare LF the server takes as one too).
    for (i, _) in client.iter().enumerate().filter(|(_, b)| **b == b'\n') {
        let line = client[..i].strip_suffix(b"\r").unwrap_or(&client[..i]);
        if literal_digits(line).is_some() {
            per_step[t.client_step(i)] += 1;
        }
    }
    let mut total = 0;
    per_step
        .iter()
        .map(|n| {
            total += n;
            total
        })
        .collect()
}

/// The server's responses, up to the tagged OK of a COMPRESS.
fn responses(t: &Transcript, lines: &[ClientLine]) -> Result<Vec<Response>, Violation> {
    let server = t.server();
    let mut responses = Vec::new();
    let mut pos = 0;
    while pos < server.len() {
        let Some((end, next)) = response_end(&server, pos)? else {
            if t.finished {
                return Err(violation("the server ended inside a response"));
            }
            break;
        };
        let response = classify(&server[pos..end], t.server_step(end))?;
        pos = next;
        let compressed = match &response.kind {
            Kind::Tagged(tag) => {
                response.text.split(' ').nth(1) == Some("OK")
                    && lines.iter().any(|l| &l.tag == tag && l.verb == "COMPRESS")
            }
            _ => false,
        };
        responses.push(response);
        if compressed {
            break;
        }
    }
    Ok(responses)
}

/// Where the response at `pos` ends (before its final CRLF) and the next
/// begins; None if it is not complete yet.
fn response_end(server: &[u8], mut pos: usize) -> Result<Option<(usize, usize)>, Violation> {
    loop {
        let Some(lf) = server[pos..].iter().position(|&b| b == b'\n').map(|e| pos + e) else {
            return Ok(None);
        };
        if lf == 0 || server[lf - 1] != b'\r' {
            return Err(violation("a response line without CR before LF"));
        }
        let line = &server[..lf - 1];
        let Some(length) = literal_length(line) else {
            return Ok(Some((lf - 1, lf + 1)));
        };
        pos = lf + 1 + length;
        if pos > server.len() {
            return Ok(None);
        }
    }
}

/// The length of the literal announced at the end of a line (`{n}`, or
/// `~{n}` for BINARY).
fn literal_length(line: &[u8]) -> Option<usize> {
    std::str::from_utf8(literal_digits(line)?).ok()?.parse().ok()
}

/// The digits of a `{n}` at the end of a line (not `{n+}`), however many.
fn literal_digits(line: &[u8]) -> Option<&[u8]> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    (!digits.is_empty() && digits.iter().all(u8::is_ascii_digit)).then_some(digits)
}

fn classify(bytes: &[u8], step: usize) -> Result<Response, Violation> {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let text: String = String::from_utf8_lossy(first).chars().take(120).collect();
    let kind = if bytes.starts_with(b"* ") {
        Kind::Untagged
    } else if bytes == b"+" || bytes.starts_with(b"+ ") {
        Kind::Continuation
    } else {
        let mut words = first.split(|&b| b == b' ');
        let tag = words.next().unwrap_or_default();
        let status = words.next().unwrap_or_default();
        if !is_tag(tag) || !matches!(status, b"OK" | b"NO" | b"BAD") {
            return Err(violation(format!("a malformed response {text:?}")));
        }
        Kind::Tagged(tag.to_vec())
    };
    Ok(Response { kind, text, step })
}

/// Checks an IMAP session's transcript.
pub fn check_imap(t: &Transcript) -> Result<(), Violation> {
    let lines = client_lines(t);
    let responses = responses(t, &lines)?;
    let Some(greeting) = responses.first() else {
        return if t.finished {
            Err(violation("no greeting"))
        } else {
            Ok(())
        };
    };
    if greeting.kind != Kind::Untagged {
        return Err(violation(format!("greeting {:?} is not untagged", greeting.text)));
    }
    check_bye(&responses)?;
    check_tags(&responses, &lines)?;
    check_continuations(&responses, &continuation_reasons(t, &lines))?;
    let bye = responses.iter().any(|r| r.text.starts_with("* BYE"));
    let compressed = lines.iter().any(|l| l.verb == "COMPRESS");
    if t.finished && !bye && !compressed {
        check_complete(&responses, &lines)?;
    }
    Ok(())
}

fn check_bye(responses: &[Response]) -> Result<(), Violation> {
    let Some(bye) = responses.iter().position(|r| r.text.starts_with("* BYE")) else {
        return Ok(());
    };
    match &responses[bye + 1..] {
        [] => Ok(()),
        [last] if matches!(last.kind, Kind::Tagged(_)) => Ok(()),
        [first, ..] => Err(violation(format!("{:?} after {:?}", first.text, responses[bye].text))),
    }
}

fn check_tags(responses: &[Response], lines: &[ClientLine]) -> Result<(), Violation> {
    let mut answered: HashMap<&[u8], usize> = HashMap::new();
    for response in responses {
        let Kind::Tagged(tag) = &response.kind else {
            continue;
        };
        let count = answered.entry(tag).or_default();
        *count += 1;
        let sent = lines
            .iter()
            .filter(|l| &l.tag == tag && l.step <= response.step)
            .count();
        if *count > sent {
            let shown = String::from_utf8_lossy(tag);
            return Err(violation(format!(
                "tagged response {:?} is number {count} for tag {shown:?}, which the client had sent {sent} times",
                response.text
            )));
        }
    }
    Ok(())
}

fn check_continuations(responses: &[Response], reasons: &[usize]) -> Result<(), Violation> {
    let mut count = 0;
    for response in responses.iter().filter(|r| r.kind == Kind::Continuation) {
        count += 1;
        let allowed = reasons.get(response.step).copied().unwrap_or(0);
        if count > allowed {
            return Err(violation(format!(
                "continuation {:?} with no literal, IDLE or AUTHENTICATE waiting for it",
                response.text
            )));
        }
    }
    Ok(())
}

fn check_complete(responses: &[Response], lines: &[ClientLine]) -> Result<(), Violation> {
    let mut sent: HashMap<&[u8], usize> = HashMap::new();
    for line in lines.iter().take_while(|l| l.plain) {
        if is_tag(&line.tag) && !line.verb.is_empty() {
            *sent.entry(&line.tag).or_default() += 1;
        }
    }
    for (tag, count) in sent {
        let answered = responses
            .iter()
            .filter(|r| r.kind == Kind::Tagged(tag.to_vec()))
            .count();
        if answered < count {
            return Err(violation(format!(
                "tag {:?} was sent {count} times and answered {answered} times",
                String::from_utf8_lossy(tag)
            )));
        }
    }
    Ok(())
}
