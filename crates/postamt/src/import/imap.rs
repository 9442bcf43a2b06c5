//! `postamt import imap`: a whole account copied from another IMAP server,
//! so a user can move here from another provider. Every selectable
//! mailbox the server LISTs is opened read-only (EXAMINE, so nothing
//! there changes, not even \Seen: BODY.PEEK), its UIDs and sizes fetched,
//! then its messages in batches of bounded size, each with its FLAGS and
//! INTERNALDATE, and stored by the [`Importer`], which skips messages
//! already there: run again, the import copies only what is new.
//!
//! Folder names: a special-use attribute (RFC 6154: \Sent, \Drafts,
//! \Trash, \Junk, \Archive) names our folder of that role; otherwise the
//! name, decoded from modified UTF-7 (RFC 3501 §5.1.3) with the server's
//! hierarchy delimiter made ours and the personal namespace prefix
//! (RFC 2342: Cyrus's and Courier's `INBOX.`) taken off, goes through
//! `our_name`. Mailboxes with \All or \Flagged (virtual views like
//! Gmail's "All Mail") are skipped: their messages are in the real
//! folders already.
//!
//! The server's certificate is verified against the system's CAs (and
//! `--ca-file`); `--insecure` accepts any, for a test or a server whose
//! certificate is known otherwise. Plain text (`--tls none`) is for
//! servers on loopback only, since the password would travel in clear.

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{Context, bail};
use store::Flags;

use super::imap_client::{Client, Tls, Token, quote};
use super::{Importer, Message, our_name, under};
use crate::config::Config;

/// Bytes of message content one UID FETCH asks for at most.
const BATCH_BYTES: u64 = 16 * 1024 * 1024;
/// Messages one UID FETCH asks for at most.
const BATCH_MESSAGES: usize = 200;

#[derive(clap::Args, Debug)]
pub struct ImapArgs {
    /// The other server, e.g. imap.example.com
    #[arg(long)]
    host: String,
    /// Its port; 993 with --tls implicit, 143 otherwise.
    #[arg(long)]
    port: Option<u16>,
    /// implicit (TLS from the start, port 993), starttls (port 143), or
    /// none (plain text, only to a server on this machine).
    #[arg(long, value_enum, default_value = "implicit")]
    tls: Tls,
    /// The login at the other server.
    #[arg(long, value_name = "LOGIN")]
    user: String,
    /// The user here who receives the mail, e.g. alice@example.org
    #[arg(long, value_name = "ADDRESS")]
    to: String,
    /// Read the other server's password from the first line of standard
    /// input instead of asking for it.
    #[arg(long)]
    password_stdin: bool,
    /// Also trust the CA certificates in this PEM file.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// Accept any certificate (a self-signed test server): the
    /// connection is encrypted but the server not authenticated.
    #[arg(long)]
    insecure: bool,
    /// Put it all under this mailbox (the other INBOX becomes NAME).
    #[arg(long, value_name = "NAME")]
    mailbox: Option<String>,
}

pub async fn import(config: &Config, args: ImapArgs) -> anyhow::Result<()> {
    let port = args.port.unwrap_or(if args.tls == Tls::Implicit { 993 } else { 143 });
    if args.tls == Tls::None && !is_loopback(&args.host) {
        bail!(
            "--tls none would send the password to {} in clear: use implicit or starttls",
            args.host
        );
    }
    let connector = if args.insecure {
        net::opportunistic_connector()?
    } else {
        net::verifying_connector(args.ca_file.as_deref())?
    };
    let password = read_password(&args)?;
    let mut importer = Importer::new(config, &args.to).await?;
    // A literal may hold the largest message taken, and a little more.
    let max_literal = importer.max_size() + 1024;
    let mut client = Client::connect(&args.host, port, args.tls, &connector, max_literal).await?;
    client.login(&args.user, &password).await?;
    let prefix = personal_prefix(&mut client).await;
    let mailboxes = list(&mut client, &prefix).await?;
    for (raw, ours) in &mailboxes {
        let name = under(args.mailbox.as_deref(), ours);
        importer.ensure(&name).await?;
        copy_mailbox(&mut client, &mut importer, raw, &name)
            .await
            .with_context(|| format!("while copying {}", String::from_utf8_lossy(raw)))?;
    }
    let _ = client.command("LOGOUT").await;
    importer.finish(&format!("{} at {}:{port}", args.user, args.host)).await
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn read_password(args: &ImapArgs) -> anyhow::Result<String> {
    if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to ask for the password on; pass it on standard input with --password-stdin");
    }
    Ok(rpassword::prompt_password(format!(
        "Password of {} at {}: ",
        args.user, args.host
    ))?)
}

/// The prefix of the user's own mailboxes (RFC 2342, NAMESPACE): Cyrus
/// and Courier put them under `INBOX.` (`INBOX.Sent`), which is no part
/// of their names here. Empty when the server has none or no NAMESPACE.
async fn personal_prefix(client: &mut Client) -> String {
    let Ok(responses) = client.command("NAMESPACE").await else {
        return String::new();
    };
    responses
        .iter()
        .find_map(|tokens| match tokens.as_slice() {
            [
                _,
                Token::Atom(verb),
                Token::Open,
                Token::Open,
                Token::String(prefix),
                ..,
            ] if verb.eq_ignore_ascii_case("NAMESPACE") => Some(String::from_utf8_lossy(prefix).into_owned()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The name here of a mailbox the server calls `decoded` (modified UTF-7
/// decoded already), levels split at its `delimiter`, its personal
/// namespace `prefix` taken off.
fn name_here(decoded: &str, delimiter: Option<u8>, prefix: &str) -> String {
    let inner = match decoded.strip_prefix(prefix) {
        Some(rest) if !prefix.is_empty() && !rest.is_empty() => rest,
        _ => decoded,
    };
    let levels: Vec<&str> = match delimiter {
        Some(d) => inner.split(d as char).collect(),
        None => vec![inner],
    };
    our_name(&levels.join("/"))
}

/// The selectable mailboxes: the name as the server spells it, and ours.
async fn list(client: &mut Client, prefix: &str) -> anyhow::Result<Vec<(Vec<u8>, String)>> {
    let mut mailboxes = Vec::new();
    for tokens in client.command("LIST \"\" \"*\"").await? {
        let [_, Token::Atom(verb), Token::Open, rest @ ..] = tokens.as_slice() else {
            continue;
        };
        if !verb.eq_ignore_ascii_case("LIST") {
            continue;
        }
        let Some(close) = rest.iter().position(|t| *t == Token::Close) else {
            continue;
        };
        let attributes: Vec<String> = rest[..close]
            .iter()
            .filter_map(|t| match t {
                Token::Atom(a) => Some(a.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let (delimiter, raw) = match &rest[close + 1..] {
            [Token::String(d), name] => (d.first().copied(), name),
            [Token::Atom(_nil), name] => (None, name),
            _ => continue,
        };
        let raw = match raw {
            Token::String(bytes) => bytes.clone(),
            Token::Atom(atom) => atom.clone().into_bytes(),
            _ => continue,
        };
        let skip = ["\\noselect", "\\nonexistent", "\\all", "\\flagged"];
        if attributes.iter().any(|a| skip.contains(&a.as_str())) {
            continue;
        }
        let role = [
            ("\\sent", "Sent"),
            ("\\drafts", "Drafts"),
            ("\\trash", "Trash"),
            ("\\junk", "Junk"),
            ("\\archive", "Archive"),
        ]
        .iter()
        .find(|(attribute, _)| attributes.iter().any(|a| a == attribute))
        .map(|(_, ours)| ours.to_string());
        let text = String::from_utf8_lossy(&raw).into_owned();
        let decoded = wire::imap::utf7::decode(&text).unwrap_or(text);
        let ours = role.unwrap_or_else(|| name_here(&decoded, delimiter, prefix));
        mailboxes.push((raw, ours));
    }
    Ok(mailboxes)
}

async fn copy_mailbox(client: &mut Client, importer: &mut Importer, raw: &[u8], name: &str) -> anyhow::Result<()> {
    let examined = client.command(&format!("EXAMINE {}", quote(raw)?)).await?;
    let exists = examined.iter().find_map(|tokens| match tokens.as_slice() {
        [_, Token::Atom(n), Token::Atom(word), ..] if word.eq_ignore_ascii_case("EXISTS") => n.parse::<u64>().ok(),
        _ => None,
    });
    if exists == Some(0) {
        return Ok(());
    }
    let mut sizes = Vec::new();
    for tokens in client.command("UID FETCH 1:* (UID RFC822.SIZE)").await? {
        let items = fetch_items(&tokens);
        if let (Some(uid), Some(size)) = (number(&items, "UID"), number(&items, "RFC822.SIZE")) {
            sizes.push((uid, size));
        }
    }
    sizes.sort_unstable();
    let mut batch: Vec<u64> = Vec::new();
    let mut bytes = 0;
    for (i, &(uid, size)) in sizes.iter().enumerate() {
        if size > importer.max_size() as u64 {
            importer.refuse(name, size);
        } else {
            batch.push(uid);
            bytes += size;
        }
        let last = i + 1 == sizes.len();
        if !batch.is_empty() && (last || bytes >= BATCH_BYTES || batch.len() >= BATCH_MESSAGES) {
            fetch_batch(client, importer, name, &batch).await?;
            batch.clear();
            bytes = 0;
        }
    }
    Ok(())
}

/// Fetches and stores the messages `uids`; all of them must come.
async fn fetch_batch(client: &mut Client, importer: &mut Importer, name: &str, uids: &[u64]) -> anyhow::Result<()> {
    let set: Vec<String> = uids.iter().map(u64::to_string).collect();
    let command = format!("UID FETCH {} (UID FLAGS INTERNALDATE BODY.PEEK[])", set.join(","));
    let mut got = 0;
    for tokens in client.command(&command).await? {
        let items = fetch_items(&tokens);
        let Some(uid) = number(&items, "UID") else {
            continue;
        };
        // A FETCH without the content is a flag update the server may
        // send unasked (RFC 9051 §7.5.2); the count below misses nothing.
        let Some((_, [Token::String(content)])) = items.iter().find(|(k, _)| k.eq_ignore_ascii_case("BODY[]")) else {
            continue;
        };
        let content = content.clone();
        let flags: Vec<String> = items
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("FLAGS"))
            .map(|(_, v)| {
                v.iter()
                    .filter_map(|t| match t {
                        Token::Atom(a) => Some(a.clone()),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let date = items
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("INTERNALDATE"))
            .and_then(|(_, v)| match v {
                [Token::String(text)] => internal_date(&String::from_utf8_lossy(text)),
                _ => None,
            });
        let Some(internal_date) = date else {
            bail!("the server sent UID {uid} of {name} without a readable INTERNALDATE");
        };
        let message = Message {
            content,
            flags: Flags::from_names(&flags),
            internal_date,
        };
        importer.add(name, message).await?;
        got += 1;
    }
    if got != uids.len() {
        bail!(
            "{name}: asked for {} messages, the server sent {got} (expunged meanwhile? run the import again)",
            uids.len()
        );
    }
    Ok(())
}

/// The items of a FETCH response: each name with its value's tokens (a
/// parenthesized value without its parentheses).
fn fetch_items(tokens: &[Token]) -> Vec<(String, &[Token])> {
    let [_, _, Token::Atom(verb), Token::Open, rest @ ..] = tokens else {
        return Vec::new();
    };
    if !verb.eq_ignore_ascii_case("FETCH") {
        return Vec::new();
    }
    let mut items = Vec::new();
    let mut at = 0;
    while let Some(Token::Atom(key)) = rest.get(at) {
        at += 1;
        if rest.get(at) == Some(&Token::Open) {
            let start = at + 1;
            let mut depth = 0;
            while at < rest.len() {
                match rest[at] {
                    Token::Open => depth += 1,
                    Token::Close => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                at += 1;
            }
            items.push((key.clone(), &rest[start..at.min(rest.len())]));
            at += 1;
        } else {
            items.push((key.clone(), &rest[at..(at + 1).min(rest.len())]));
            at += 1;
        }
    }
    items
}

fn number(items: &[(String, &[Token])], key: &str) -> Option<u64> {
    match items.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))?.1 {
        [Token::Atom(n)] => n.parse().ok(),
        _ => None,
    }
}

/// `01-Dec-2026 14:01:59 +0000` (RFC 9051 §9, date-time; the day may
/// have a leading space).
fn internal_date(text: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = text.split_whitespace();
    let (date, time, zone) = (parts.next()?, parts.next()?, parts.next()?);
    let mut date = date.split('-');
    let day: i64 = date.next()?.parse().ok()?;
    let month = MONTHS.iter().position(|m| Some(*m) == date.clone().next())? as i64 + 1;
    let year: i64 = date.nth(1)?.parse().ok()?;
    let mut clock = time.split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (clock.next()??, clock.next()??, clock.next()??);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let zone = zone.get(1..5)?;
    // `get`, not indexing: a server's text may put a multi-byte character
    // across the split.
    let offset = zone.get(..2)?.parse::<i64>().ok()? * 3600 + zone.get(2..)?.parse::<i64>().ok()? * 60;
    Some(wire::date::days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s - sign * offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_dates() {
        let utc = internal_date("01-Dec-2026 14:01:59 +0000").unwrap();
        assert_eq!(wire::date::rfc5322(utc), "Tue, 1 Dec 2026 14:01:59 +0000");
        assert_eq!(internal_date(" 1-Dec-2026 15:01:59 +0100"), Some(utc));
        // A character across the hours/minutes split is no zone, not a panic.
        assert_eq!(internal_date("01-Dec-2026 14:01:59 +a\u{e9}x"), None);
    }

    #[test]
    fn names_lose_the_personal_namespace() {
        assert_eq!(name_here("INBOX.Sent", Some(b'.'), "INBOX."), "Sent");
        assert_eq!(name_here("INBOX.Lists.rust", Some(b'.'), "INBOX."), "Lists/rust");
        assert_eq!(name_here("INBOX", Some(b'.'), "INBOX."), "INBOX");
        assert_eq!(name_here("Lists/rust", Some(b'/'), ""), "Lists/rust");
        assert_eq!(name_here("Sent Items", Some(b'/'), ""), "Sent");
    }

    #[test]
    fn fetch_response_items() {
        let tokens = vec![
            Token::Atom("*".into()),
            Token::Atom("3".into()),
            Token::Atom("FETCH".into()),
            Token::Open,
            Token::Atom("UID".into()),
            Token::Atom("9".into()),
            Token::Atom("FLAGS".into()),
            Token::Open,
            Token::Atom("\\Seen".into()),
            Token::Close,
            Token::Atom("BODY[]".into()),
            Token::String(b"x".to_vec()),
            Token::Close,
        ];
        let items = fetch_items(&tokens);
        assert_eq!(number(&items, "UID"), Some(9));
        assert_eq!(items[1].1, &[Token::Atom("\\Seen".into())]);
        assert_eq!(items[2].1, &[Token::String(b"x".to_vec())]);
    }
}
