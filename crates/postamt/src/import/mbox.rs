//! mbox files: messages one after another, each starting with a `From `
//! line (`From sender Tue Dec  1 14:01:59 2026`, asctime in UTC, which is
//! the message's internal date) and followed by an empty line. A body
//! line that starts with `From ` (after any number of `>`) is quoted with
//! one more `>` (mboxrd); reading takes one away, so mboxo files, which
//! quote only `From ` itself, read right too, but for lines that began
//! with `>From ` before they were written.
//!
//! Flags are in header fields, as Dovecot and mutt write them: `Status:`
//! (R seen, O old), `X-Status:` (A answered, F flagged, T draft,
//! D deleted), `X-Keywords:` (keywords, separated by spaces or commas).
//! Dovecot hides these fields (and its `X-UID`, `X-IMAPbase`, `X-IMAP`)
//! from IMAP clients, since they are its own bookkeeping, not the
//! message: they are taken out here too, and written back on export, so
//! the stored message is the one the client saw.
//!
//! A tree of mbox files is a directory: each file a mailbox named by its
//! path, and a folder's children in a directory named after it with
//! `.sbd` added (Thunderbird's layout), since `Lists` cannot be both a
//! file and a directory.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use store::Flags;

use super::Message;

/// The header fields that carry flags and Dovecot's state, not the
/// message.
const STATE_FIELDS: [&str; 6] = ["status", "x-status", "x-keywords", "x-uid", "x-imapbase", "x-imap"];

const X_STATUS: [(char, &str); 4] = [
    ('A', "\\Answered"),
    ('F', "\\Flagged"),
    ('T', "\\Draft"),
    ('D', "\\Deleted"),
];

/// One mbox file, with where its messages are.
pub(crate) struct Folder {
    pub name: String,
    path: PathBuf,
    /// Each message: the byte range after its From_ line, and its date.
    pub messages: Vec<(u64, u64, i64)>,
}

/// The mbox file `path`, or every file of the tree under it.
pub(crate) fn folders(path: &Path) -> anyhow::Result<Vec<Folder>> {
    if path.is_file() {
        return Ok(vec![scan(path, "INBOX".into())?]);
    }
    if !path.is_dir() {
        bail!("{} is neither an mbox file nor a directory of them", path.display());
    }
    let mut folders = Vec::new();
    walk(path, "", &mut folders)?;
    Ok(folders)
}

fn walk(dir: &Path, prefix: &str, folders: &mut Vec<Folder>) -> anyhow::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            let level = file_name.strip_suffix(".sbd").unwrap_or(&file_name);
            walk(&path, &format!("{prefix}{level}/"), folders)?;
        } else if path.is_file() {
            folders.push(scan(&path, format!("{prefix}{file_name}"))?);
        }
    }
    Ok(())
}

/// Finds the messages of one file, without keeping them.
fn scan(path: &Path, name: String) -> anyhow::Result<Folder> {
    let file = File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut reader = BufReader::new(file);
    let (mut offset, mut line) = (0u64, Vec::new());
    let mut messages = Vec::new();
    let mut current: Option<(u64, i64)> = None;
    loop {
        line.clear();
        let read = reader.read_until(b'\n', &mut line)? as u64;
        // A `From ` line without a date is body text an mboxo writer
        // left unquoted, not the start of a message.
        let date = line.starts_with(b"From ").then(|| from_line_date(&line)).flatten();
        if read == 0 || date.is_some() {
            if let Some((start, date)) = current.take() {
                messages.push((start, offset, date));
            }
            let Some(date) = date else {
                break;
            };
            current = Some((offset + read, date));
        } else if current.is_none() && !line.iter().all(u8::is_ascii_whitespace) {
            bail!(
                "{} does not start with a From line: it is not an mbox file",
                path.display()
            );
        }
        offset += read;
    }
    Ok(Folder {
        name,
        path: path.to_path_buf(),
        messages,
    })
}

/// The date of a From_ line: asctime (`Tue Dec  1 14:01:59 2026`), UTC
/// unless a numeric zone follows the time.
fn from_line_date(line: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(line);
    let tokens: Vec<&str> = text.split_whitespace().collect();
    let at = tokens.iter().rposition(|t| t.matches(':').count() == 2)?;
    let month_name = tokens.get(at.checked_sub(2)?)?;
    let month = MONTHS.iter().position(|m| month_name.eq_ignore_ascii_case(m))?;
    let day: i64 = tokens.get(at - 1)?.parse().ok()?;
    let mut time = tokens[at].split(':').map(|n| n.parse::<i64>().ok());
    let (h, m, s) = (time.next()??, time.next()??, time.next()??);
    let rest = &tokens[at + 1..];
    let year: i64 = rest
        .iter()
        .find(|t| t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()))?
        .parse()
        .ok()?;
    let zone = rest
        .iter()
        .find(|t| t.len() == 5 && (t.starts_with('+') || t.starts_with('-')))
        .and_then(|t| {
            let minutes = t[1..3].parse::<i64>().ok()? * 60 + t[3..].parse::<i64>().ok()?;
            Some(if t.starts_with('-') { -minutes } else { minutes })
        })
        .unwrap_or(0);
    let days = wire::date::days_from_civil(year, month as i64 + 1, day);
    Some(days * 86400 + h * 3600 + m * 60 + s - zone * 60)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];

/// `Tue Dec  1 14:01:59 2026` for `seconds` since the epoch, in UTC.
fn asctime(seconds: i64) -> String {
    let days = seconds.div_euclid(86400);
    let time = seconds.rem_euclid(86400);
    let (year, month, day) = wire::date::civil_from_days(days);
    format!(
        "{} {} {day:>2} {:02}:{:02}:{:02} {year}",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        time / 3600,
        time / 60 % 60,
        time % 60
    )
}

impl Folder {
    /// Reads message `index`; its size instead when over `max` bytes.
    pub(crate) fn load(&self, index: usize, max: usize) -> anyhow::Result<Result<Message, u64>> {
        let (start, end, internal_date) = self.messages[index];
        if end - start > (max as u64).saturating_add(2) {
            return Ok(Err(end - start));
        }
        let mut file = File::open(&self.path)?;
        file.seek(SeekFrom::Start(start))?;
        let mut raw = vec![0; (end - start) as usize];
        file.read_exact(&mut raw)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        // The empty line that ends every message belongs to the format.
        if raw.ends_with(b"\r\n\r\n") || raw.ends_with(b"\n\r\n") {
            raw.truncate(raw.len() - 2);
        } else if raw.ends_with(b"\n\n") {
            raw.truncate(raw.len() - 1);
        }
        let mut content = Vec::with_capacity(raw.len());
        for line in raw.split_inclusive(|&b| b == b'\n') {
            let quotes = line.iter().take_while(|&&b| b == b'>').count();
            if quotes > 0 && line[quotes..].starts_with(b"From ") {
                content.extend_from_slice(&line[1..]);
            } else {
                content.extend_from_slice(line);
            }
        }
        let (content, names) = take_state_fields(&content);
        Ok(Ok(Message {
            content,
            flags: Flags::from_names(&names),
            internal_date,
        }))
    }
}

/// The message without its state fields, and the flags they carried.
fn take_state_fields(message: &[u8]) -> (Vec<u8>, Vec<String>) {
    let (mut out, mut names) = (Vec::with_capacity(message.len()), Vec::new());
    let mut lines = message.split_inclusive(|&b| b == b'\n');
    let mut dropping = false;
    for line in lines.by_ref() {
        if line == b"\n" || line == b"\r\n" {
            out.extend_from_slice(line);
            break;
        }
        let continued = line.first().is_some_and(|b| *b == b' ' || *b == b'\t');
        if continued {
            if !dropping {
                out.extend_from_slice(line);
            }
            continue;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = text.split_once(':').unwrap_or((&text, ""));
        let field = field.trim().to_ascii_lowercase();
        dropping = STATE_FIELDS.contains(&field.as_str());
        let value = value.trim();
        match field.as_str() {
            "status" if value.contains('R') => names.push("\\Seen".to_string()),
            "x-status" => names.extend(
                X_STATUS
                    .iter()
                    .filter(|(l, _)| value.contains(*l))
                    .map(|(_, f)| f.to_string()),
            ),
            "x-keywords" => names.extend(value.split([' ', ',']).filter(|k| !k.is_empty()).map(str::to_string)),
            _ => {}
        }
        if !dropping {
            out.extend_from_slice(line);
        }
    }
    for line in lines {
        out.extend_from_slice(line);
    }
    (out, names)
}

/// Writes one mailbox as an mbox file.
pub(crate) struct Writer {
    file: std::io::BufWriter<File>,
}

impl Writer {
    /// The file for mailbox `name` under `root` (see the module's comment
    /// for the layout).
    pub(crate) fn create(root: &Path, name: &str) -> anyhow::Result<Writer> {
        let mut levels: Vec<&str> = name.split('/').collect();
        let last = levels.pop().unwrap_or(name);
        let mut dir = root.to_path_buf();
        for level in levels {
            dir.push(format!("{level}.sbd"));
        }
        crate::export::private_dir(&dir)?;
        let path = dir.join(last);
        let file = crate::export::private_create(&path)?;
        Ok(Writer {
            file: std::io::BufWriter::new(file),
        })
    }

    pub(crate) fn add(&mut self, message: &Message) -> anyhow::Result<()> {
        let out = &mut self.file;
        writeln!(out, "From MAILER-DAEMON {}", asctime(message.internal_date))?;
        let content = &message.content;
        let header_end = find_header_end(content);
        let eol: &[u8] = if content.get(..header_end).is_some_and(|h| h.contains(&b'\r')) {
            b"\r\n"
        } else {
            b"\n"
        };
        let flags = &message.flags;
        let mut fields = Vec::new();
        let status = if flags.has(store::flag::SEEN) { "RO" } else { "O" };
        fields.push(format!("Status: {status}"));
        let x_status: String = X_STATUS
            .iter()
            .filter(|(_, f)| flags.names().iter().any(|n| n == f))
            .map(|(l, _)| *l)
            .collect();
        if !x_status.is_empty() {
            fields.push(format!("X-Status: {x_status}"));
        }
        if !flags.keywords.is_empty() {
            fields.push(format!("X-Keywords: {}", flags.keywords.join(" ")));
        }
        let (header, body) = content.split_at(header_end);
        write_quoted(out, header)?;
        if !header.is_empty() && !header.ends_with(b"\n") {
            out.write_all(eol)?;
        }
        for field in &fields {
            out.write_all(field.as_bytes())?;
            out.write_all(eol)?;
        }
        write_quoted(out, body)?;
        if !content.ends_with(b"\n") {
            out.write_all(b"\n")?;
        }
        out.write_all(b"\n")?;
        Ok(())
    }

    pub(crate) fn finish(self) -> anyhow::Result<()> {
        let file = self.file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        Ok(())
    }
}

/// Where the header's fields end: the offset of the empty line (or the
/// end, for a message that is all header).
fn find_header_end(content: &[u8]) -> usize {
    let mut at = 0;
    for line in content.split_inclusive(|&b| b == b'\n') {
        if line == b"\n" || line == b"\r\n" {
            return at;
        }
        at += line.len();
    }
    at
}

/// Writes `text` with every line that starts with `From ` after any
/// number of `>` given one more `>` (mboxrd).
fn write_quoted(out: &mut impl Write, text: &[u8]) -> std::io::Result<()> {
    for line in text.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_line_dates() {
        let date = from_line_date(b"From alice@example.org Tue Dec  1 14:01:59 2026\n").unwrap();
        assert_eq!(asctime(date), "Tue Dec  1 14:01:59 2026");
        let zoned = from_line_date(b"From x Tue Dec  1 14:01:59 +0100 2026\n").unwrap();
        assert_eq!(zoned, date - 3600);
    }

    #[test]
    fn a_from_line_without_a_date_is_body_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("inbox");
        std::fs::write(
            &path,
            "From a@example.org Tue Dec  1 14:01:59 2026\nSubject: a\n\nFrom me, unquoted\n\n\
             From b@example.org Tue Dec  1 15:01:59 2026\nSubject: b\n\nb\n\n",
        )
        .unwrap();
        let folder = scan(&path, "INBOX".into()).unwrap();
        assert_eq!(folder.messages.len(), 2);
        let first = folder.load(0, 1000).unwrap().unwrap();
        assert_eq!(first.content, b"Subject: a\n\nFrom me, unquoted\n");
    }

    #[test]
    fn state_fields_give_flags_and_go() {
        let (content, names) = take_state_fields(
            b"Subject: a\r\nStatus: RO\r\nX-Status: AF\r\nX-Keywords: $Label1 Work\r\n\r\nStatus: body\r\n",
        );
        assert_eq!(content, b"Subject: a\r\n\r\nStatus: body\r\n");
        let flags = Flags::from_names(&names);
        assert_eq!(flags.names(), ["\\Seen", "\\Answered", "\\Flagged", "$Label1", "Work"]);
    }
}
