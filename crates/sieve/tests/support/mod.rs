//! Reads and runs the data-driven cases in `tests/cases/*.cases`: a
//! script, a message, an envelope and what the server around the script
//! holds, and the actions (or the error) expected.
//!
//! A file holds cases, each starting with `### name`. Inside a case,
//! sections start with `== section`:
//!
//! - `== script`: the script (required).
//! - `== message`: the message, LF line ends turned into CRLF (default:
//!   a small plain message).
//! - `== envelope`: `from ADDRESS` (`from` alone: the null path), `to
//!   ADDRESS`, `auth ADDRESS`.
//! - `== host`: `mailbox NAME [USE...]` (mailboxes that exist, with their
//!   special uses), `seen HANDLE ID` (duplicate already recorded), `env
//!   NAME VALUE`, `now UNIX-SECONDS ZONE-MINUTES`, `limit NAME VALUE`
//!   (NAME: redirects, actions, steps, include_depth, includes,
//!   header_edits).
//! - `== include personal NAME` / `== include global NAME`: a script that
//!   `include` can name.
//! - `== actions`: one action per line, as [`render`] writes them; empty
//!   when the script delivers nowhere (discard).
//! - `== header`: the header the message is delivered with, `Name:
//!   value` per line: as editheader left it, or the message's own when
//!   nothing edited it.
//! - `== compile-error`: `LINE substring` of the expected error.
//! - `== runtime-error`: a substring of the expected error (the actions
//!   are then a plain keep).
//! - `== duplicates`: the keys the duplicate test (RFC 7352) asks the
//!   host to record, one per line as `HANDLE ID SECONDS`, then `last`
//!   for `:last` (HANDLE `""` when there is none; the key is HANDLE, a
//!   NUL, then ID, as `seen` writes it); empty when nothing is to be
//!   recorded.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use sieve::mail::ParsedMail;
use sieve::{Action, Envelope, Host, Limits, Mail, Program};

#[derive(Debug, Default)]
pub struct Case {
    pub file: String,
    pub name: String,
    sections: Vec<(String, String)>,
}

impl Case {
    fn section(&self, name: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, body)| body.as_str())
    }
}

/// Every case of every file in `dir`.
pub fn cases(dir: &Path) -> Vec<Case> {
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "cases"))
    {
        let text = std::fs::read_to_string(&path).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut case: Option<Case> = None;
        for line in text.split_inclusive('\n') {
            if let Some(name) = line.strip_prefix("### ") {
                cases.extend(case.take());
                case = Some(Case {
                    file: file.clone(),
                    name: name.trim().to_string(),
                    sections: Vec::new(),
                });
            } else if let Some(section) = line.strip_prefix("== ") {
                let case = case
                    .as_mut()
                    .unwrap_or_else(|| panic!("{file}: a section before the first ### case"));
                case.sections.push((section.trim().to_string(), String::new()));
            } else if let Some((_, body)) = case.as_mut().and_then(|c| c.sections.last_mut()) {
                body.push_str(line);
            }
        }
        cases.extend(case);
    }
    cases
}

#[derive(Default)]
struct TestHost {
    mailboxes: Vec<(String, Vec<String>)>,
    seen: Vec<String>,
    env: HashMap<String, String>,
    now: (i64, i32),
    scripts: HashMap<(bool, String), Arc<Program>>,
}

impl Host for TestHost {
    fn mailbox_exists(&self, name: &str) -> bool {
        self.mailboxes.iter().any(|(m, _)| m == name)
    }

    fn special_use_exists(&self, mailbox: Option<&str>, uses: &[String]) -> bool {
        uses.iter().all(|wanted| {
            self.mailboxes.iter().any(|(m, have)| {
                mailbox.is_none_or(|name| name == m) && have.iter().any(|u| u.eq_ignore_ascii_case(wanted))
            })
        })
    }

    fn duplicate_seen(&self, key: &str) -> bool {
        self.seen.iter().any(|k| k == key)
    }

    fn include(&self, global: bool, name: &str) -> Option<Arc<Program>> {
        self.scripts.get(&(global, name.to_string())).cloned()
    }

    fn environment(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }

    fn now(&self) -> (i64, i32) {
        self.now
    }
}

const DEFAULT_MESSAGE: &str = "From: sender@example.com\nTo: me@example.org\nSubject: hello\n\nhello world\n";

/// Runs one case; Err says what differed.
pub fn check(case: &Case) -> Result<(), String> {
    let script = case.section("script").ok_or("no == script section")?;
    let compiled = sieve::compile(script);
    if let Some(expected) = case.section("compile-error") {
        let (line, text) = expected.trim().split_once(' ').unwrap_or((expected.trim(), ""));
        return match compiled {
            Ok(_) => Err(format!("compiled, expected an error on line {line} with {text:?}")),
            Err(e) if e.line.to_string() == line && e.message.contains(text) => Ok(()),
            Err(e) => Err(format!("error {e}, expected line {line} with {text:?}")),
        };
    }
    let program = compiled.map_err(|e| format!("compile error: {e}"))?;
    // The stored form round-trips.
    let stored = serde_json::to_string(&program).unwrap();
    let program: Program = serde_json::from_str(&stored).unwrap();

    let message = case
        .section("message")
        .unwrap_or(DEFAULT_MESSAGE)
        .replace("\r\n", "\n")
        .replace('\n', "\r\n");
    let mut envelope = Envelope {
        from: "sender@example.com".into(),
        to: "me@example.org".into(),
        auth: None,
    };
    for line in case
        .section("envelope")
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "from" => envelope.from = value.trim().to_string(),
            "to" => envelope.to = value.trim().to_string(),
            "auth" => envelope.auth = Some(value.trim().to_string()),
            other => return Err(format!("unknown envelope line {other}")),
        }
    }
    let mut host = TestHost {
        now: (1_796_208_253, 60),
        ..TestHost::default()
    };
    let mut limits = Limits::default();
    for line in case
        .section("host")
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["mailbox", name, uses @ ..] => host
                .mailboxes
                .push((name.to_string(), uses.iter().map(|u| u.to_string()).collect())),
            ["seen", handle, id] => host.seen.push(format!("{}\0{id}", handle.trim_matches('"'))),
            ["env", name, value @ ..] => {
                host.env.insert(name.to_string(), value.join(" "));
            }
            ["now", time, zone] => host.now = (time.parse().unwrap(), zone.parse().unwrap()),
            ["limit", "redirects", n] => limits.redirects = n.parse().unwrap(),
            ["limit", "steps", n] => limits.steps = n.parse().unwrap(),
            ["limit", "actions", n] => limits.actions = n.parse().unwrap(),
            ["limit", "include_depth", n] => limits.include_depth = n.parse().unwrap(),
            ["limit", "includes", n] => limits.includes = n.parse().unwrap(),
            ["limit", "header_edits", n] => limits.header_edits = n.parse().unwrap(),
            _ => return Err(format!("unknown host line {line}")),
        }
    }
    for (section, body) in &case.sections {
        if let Some(rest) = section.strip_prefix("include ") {
            let (kind, name) = rest.split_once(' ').ok_or("include needs personal|global NAME")?;
            let program = sieve::compile(body).map_err(|e| format!("included {name}: {e}"))?;
            host.scripts
                .insert((kind == "global", name.trim().to_string()), Arc::new(program));
        }
    }

    let mail = ParsedMail::new(message.as_bytes());
    let outcome = sieve::run(&program, &mail, &envelope, &host, &limits);
    match (case.section("runtime-error"), &outcome.error) {
        (Some(expected), Some(error)) if error.0.contains(expected.trim()) => {}
        (Some(expected), other) => {
            return Err(format!(
                "expected a runtime error with {:?}, got {other:?}",
                expected.trim()
            ));
        }
        (None, Some(error)) => return Err(format!("runtime error: {error}")),
        (None, None) => {}
    }
    let actual: Vec<String> = outcome.actions.iter().map(render).collect();
    let expected: Vec<String> = case
        .section("actions")
        .unwrap_or(if case.section("runtime-error").is_some() {
            "keep\n"
        } else {
            ""
        })
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    if actual != expected {
        return Err(format!("actions\n  got:      {actual:?}\n  expected: {expected:?}"));
    }
    if let Some(expected) = case.section("duplicates") {
        let actual: Vec<String> = outcome
            .duplicates
            .iter()
            .map(|d| {
                let (handle, id) = d.key.split_once('\0').unwrap_or(("", &d.key));
                format!("\"{handle}\" {id} {}{}", d.seconds, if d.last { " last" } else { "" })
            })
            .collect();
        let expected: Vec<String> = expected
            .lines()
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if actual != expected {
            return Err(format!("duplicates\n  got:      {actual:?}\n  expected: {expected:?}"));
        }
    }
    if let Some(expected) = case.section("header") {
        let header = outcome.edited_header.unwrap_or_else(|| mail.fields());
        let actual: Vec<String> = header.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let expected: Vec<String> = expected.lines().map(str::to_string).filter(|l| !l.is_empty()).collect();
        if actual != expected {
            return Err(format!("header\n  got:      {actual:?}\n  expected: {expected:?}"));
        }
    }
    Ok(())
}

/// One action on one line: `keep`, `fileinto "Box"`, `redirect "a@b"`,
/// `reject "text"`, `ereject "text"`, `vacation to=... subject="..."`,
/// with `flags="..."`, `create`, `specialuse="..."` where they apply.
pub fn render(action: &Action) -> String {
    let flags = |flags: &[String]| {
        if flags.is_empty() {
            String::new()
        } else {
            format!(" flags={:?}", flags.join(" "))
        }
    };
    match action {
        Action::Keep { flags: f } => format!("keep{}", flags(f)),
        Action::FileInto {
            mailbox,
            flags: f,
            create,
            special_use,
        } => format!(
            "fileinto {mailbox:?}{}{}{}",
            flags(f),
            if *create { " create" } else { "" },
            special_use
                .as_ref()
                .map(|s| format!(" specialuse={s:?}"))
                .unwrap_or_default()
        ),
        Action::Redirect { address } => format!("redirect {address:?}"),
        Action::Reject { reason, protocol_level } => {
            format!("{} {reason:?}", if *protocol_level { "ereject" } else { "reject" })
        }
        Action::Vacation(reply) => format!(
            "vacation to={} from={} subject={:?} period={} body={:?}{}",
            reply.to,
            reply.from,
            reply.subject,
            reply.period,
            reply.body,
            if reply.mime { " mime" } else { "" }
        ),
    }
}
