//! Maildir as Dovecot keeps it (Maildir++, Dovecot's default layout): the
//! INBOX's `cur/`, `new/` and `tmp/` at the top, each other folder in a
//! directory `.Name`, hierarchy levels joined by `.` (`.Lists.rust`),
//! levels in modified UTF-7 (RFC 3501 §5.1.3). A message file is named
//! `UNIQUE:2,FLAGS` (Dovecot's are `time.id.host,S=size,W=vsize:2,FLAGS`):
//! the letters D F P R S T are the draft, flagged, passed (forwarded),
//! replied, seen and trashed (deleted) flags of the Maildir
//! specification (P is read as $Forwarded; Dovecot ignores it and keeps
//! $Forwarded as a keyword, as the export does); `a` to `z` are keywords, numbered in the folder's
//! `dovecot-keywords` file (lines `0 $Label1`). Messages in `new/` are
//! recent (and usually have no flags yet, though Dovecot may set flags on
//! a file it leaves in `new/`). The internal date is the file's mtime,
//! as in Dovecot. `dovecot-uidlist` (`UID [fields] :UNIQUE` lines after a
//! header line) gives the order of the folder's messages; files it does
//! not list come after, by name, which starts with the delivery time.
//!
//! Both ways are here: reading for `import maildir`, writing for
//! `export maildir`, so that the two agree.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, bail};
use store::Flags;

use super::Message;

/// The Maildir flag letters, in the ASCII order a file name lists them.
const LETTERS: [(char, &str); 6] = [
    ('D', "\\Draft"),
    ('F', "\\Flagged"),
    ('P', "$Forwarded"),
    ('R', "\\Answered"),
    ('S', "\\Seen"),
    ('T', "\\Deleted"),
];

/// A folder of the tree: its name with `/` between levels, as the source
/// calls it (INBOX for the top), and its message files in order.
pub(crate) struct Folder {
    pub name: String,
    pub files: Vec<PathBuf>,
    keywords: Vec<String>,
}

/// The folders of the Maildir++ tree at `root`.
pub(crate) fn folders(root: &Path) -> anyhow::Result<Vec<Folder>> {
    if !root.join("cur").is_dir() {
        bail!(
            "{} is not a Maildir: it has no cur/ directory (Dovecot's layout: cur/ new/ tmp/ for the INBOX, \
             .Folder/ for the others)",
            root.display()
        );
    }
    let mut folders = vec![folder(root, "INBOX".into())?];
    let mut names = Vec::new();
    for entry in fs::read_dir(root).with_context(|| format!("cannot read {}", root.display()))? {
        let entry = entry?;
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if let Some(name) = file_name.strip_prefix('.')
            && !name.is_empty()
            && name != "."
            && entry.path().join("cur").is_dir()
        {
            names.push(name.to_string());
        }
    }
    names.sort();
    for name in names {
        let ours = name
            .split('.')
            .map(|level| wire::imap::utf7::decode(level).unwrap_or_else(|| level.to_string()))
            .collect::<Vec<_>>()
            .join("/");
        folders.push(folder(&root.join(format!(".{name}")), ours)?);
    }
    Ok(folders)
}

fn folder(dir: &Path, name: String) -> anyhow::Result<Folder> {
    let keywords = match fs::read_to_string(dir.join("dovecot-keywords")) {
        Ok(text) => parse_keywords(&text),
        Err(_) => Vec::new(),
    };
    let order = fs::read_to_string(dir.join("dovecot-uidlist"))
        .map(|text| parse_uidlist(&text))
        .unwrap_or_default();
    let mut files: Vec<(u64, String, PathBuf)> = Vec::new();
    for sub in ["cur", "new"] {
        let Ok(entries) = fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for entry in entries.flatten() {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if file_name.starts_with('.') || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let unique = file_name.split(':').next().unwrap_or_default().to_string();
            let uid = order.get(&unique).copied().unwrap_or(u64::MAX);
            files.push((uid, file_name, entry.path()));
        }
    }
    files.sort();
    Ok(Folder {
        name,
        files: files.into_iter().map(|(_, _, path)| path).collect(),
        keywords,
    })
}

/// `dovecot-keywords`: `N keyword` lines; the index is the letter.
fn parse_keywords(text: &str) -> Vec<String> {
    let mut keywords = vec![String::new(); 26];
    for line in text.lines() {
        if let Some((index, keyword)) = line.split_once(' ')
            && let Ok(index) = index.parse::<usize>()
            && index < 26
        {
            keywords[index] = keyword.trim().to_string();
        }
    }
    keywords
}

/// `dovecot-uidlist`: a header line, then `UID [fields] :UNIQUE` lines
/// (version 3; version 1 has `UID UNIQUE`).
fn parse_uidlist(text: &str) -> BTreeMap<String, u64> {
    let mut order = BTreeMap::new();
    for line in text.lines().skip(1) {
        let Some((uid, rest)) = line.split_once(' ') else {
            continue;
        };
        let Ok(uid) = uid.parse::<u64>() else {
            continue;
        };
        let unique = match rest.find(':') {
            Some(at) if at == 0 || rest.as_bytes()[at - 1] == b' ' => &rest[at + 1..],
            _ => rest.rsplit(' ').next().unwrap_or(rest),
        };
        order.insert(unique.to_string(), uid);
    }
    order
}

impl Folder {
    /// Reads the message in `path`; None when it is larger than `max`
    /// bytes (with its size).
    pub(crate) fn load(&self, path: &Path, max: usize) -> anyhow::Result<Result<Message, u64>> {
        let mut file = fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
        let metadata = file.metadata()?;
        if metadata.len() > max as u64 {
            return Ok(Err(metadata.len()));
        }
        let mut content = Vec::with_capacity(metadata.len() as usize);
        file.read_to_end(&mut content)?;
        let internal_date = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64);
        let file_name = path.file_name().unwrap_or_default().to_string_lossy();
        // Files in new/ are recent; Dovecot still gives them flags there.
        let info = file_name.split_once(":2,").map_or("", |(_, info)| info);
        let mut names = Vec::new();
        for letter in info.chars() {
            if let Some((_, flag)) = LETTERS.iter().find(|(l, _)| *l == letter) {
                names.push(flag.to_string());
            } else if letter.is_ascii_lowercase() {
                match self.keywords.get((letter as u8 - b'a') as usize) {
                    Some(keyword) if !keyword.is_empty() => names.push(keyword.clone()),
                    _ => tracing::warn!(file = %path.display(), %letter, "keyword letter not in dovecot-keywords"),
                }
            }
        }
        Ok(Ok(Message {
            content,
            flags: Flags::from_names(&names),
            internal_date,
        }))
    }
}

/// Writes one folder of a Maildir++ tree under `root`, Dovecot's way.
pub(crate) struct Writer {
    dir: PathBuf,
    keywords: Vec<String>,
    uidlist: String,
}

impl Writer {
    /// The folder `name` (INBOX, or levels joined by `/`), with the
    /// keywords its messages carry (at most 26: the letters a to z).
    pub(crate) fn create(root: &Path, name: &str, keywords: Vec<String>, uidvalidity: i64) -> anyhow::Result<Writer> {
        let dir = if name == "INBOX" {
            root.to_path_buf()
        } else {
            let mut levels = Vec::new();
            for level in name.split('/') {
                if level.contains('.') {
                    bail!("mailbox {name:?} has a '.' in a level name, which a Maildir++ folder name cannot hold");
                }
                levels.push(wire::imap::utf7::encode(level));
            }
            root.join(format!(".{}", levels.join(".")))
        };
        for sub in ["cur", "new", "tmp"] {
            crate::export::private_dir(&dir.join(sub))?;
        }
        if keywords.len() > 26 {
            bail!(
                "mailbox {name:?} uses {} keywords; a Maildir folder holds at most 26",
                keywords.len()
            );
        }
        let listed: String = keywords.iter().enumerate().map(|(i, k)| format!("{i} {k}\n")).collect();
        if !listed.is_empty() {
            crate::export::private_file(&dir.join("dovecot-keywords"), listed.as_bytes())?;
        }
        Ok(Writer {
            dir,
            keywords,
            uidlist: format!("3 V{uidvalidity} N1\n"),
        })
    }

    /// Writes one message into `cur/` with its flags and date.
    pub(crate) fn add(&mut self, uid: i64, message: &Message) -> anyhow::Result<()> {
        // $Forwarded goes as a keyword, as Dovecot keeps it: it does not
        // read P (measured with Dovecot 2.3, crates/postamt/tests/import_export.rs).
        let mut letters: Vec<char> = LETTERS
            .iter()
            .filter(|(letter, flag)| *letter != 'P' && message.flags.names().iter().any(|n| n == flag))
            .map(|(l, _)| *l)
            .collect();
        for keyword in &message.flags.keywords {
            if let Some(i) = self.keywords.iter().position(|k| k == keyword) {
                letters.push((b'a' + i as u8) as char);
            }
        }
        letters.sort_unstable();
        let unique = format!("{}.P{uid}.postamt,S={}", message.internal_date, message.content.len());
        let name = format!("{unique}:2,{}", letters.into_iter().collect::<String>());
        let path = self.dir.join("cur").join(name);
        crate::export::private_file(&path, &message.content)?;
        let date = UNIX_EPOCH + Duration::from_secs(message.internal_date.max(0) as u64);
        fs::File::options()
            .append(true)
            .open(&path)
            .and_then(|f| f.set_modified(date))
            .with_context(|| format!("cannot set the date of {}", path.display()))?;
        self.uidlist.push_str(&format!("{uid} :{unique}\n"));
        Ok(())
    }

    pub(crate) fn finish(self, uidnext: i64) -> anyhow::Result<()> {
        let uidlist = self.uidlist.replacen(" N1\n", &format!(" N{uidnext}\n"), 1);
        crate::export::private_file(&self.dir.join("dovecot-uidlist"), uidlist.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uidlist_lines_of_both_versions() {
        let order = parse_uidlist("3 V1 N3 G0\n1 :1.M1.host\n2 G3f2 :2.M2.host\n");
        assert_eq!(order.get("1.M1.host"), Some(&1));
        assert_eq!(order.get("2.M2.host"), Some(&2));
        let order = parse_uidlist("1 1 3\n1 1.M1.host\n");
        assert_eq!(order.get("1.M1.host"), Some(&1));
    }

    #[test]
    fn keywords_by_index() {
        let keywords = parse_keywords("0 $Label1\n2 Work\n");
        assert_eq!(
            (keywords[0].as_str(), keywords[1].as_str(), keywords[2].as_str()),
            ("$Label1", "", "Work")
        );
    }
}
