//! Moving mail in and out (issue 19, item 7): a Maildir written by Dovecot
//! itself (`doveadm`, Debian's dovecot-core) and an mbox Dovecot reads
//! are imported, and postamt's IMAP answers (mailboxes, UID order, flags,
//! keywords, internal dates, content hashes) must equal Dovecot's for the
//! same mail; export to Maildir and to mbox, imported again for another
//! user, must give the same answers as the first; and `import imap` from
//! a second postamt instance copies a whole account the same, and a
//! second run copies nothing twice.
//!
//! Dovecot writes the Maildir here, in each run, instead of a tree kept in
//! the repository: the layout is then the one Dovecot really writes
//! (`.Folder` names in modified UTF-7, `dovecot-keywords`,
//! `dovecot-uidlist`, flags on files it leaves in `new/`, `$Forwarded` as
//! a keyword), and Dovecot itself says what the mail is (`doveadm fetch`),
//! so the comparison does not rest on our reading of its format. It costs
//! the dovecot-core package (.ci/run), and no server: doveadm works on the
//! files directly.

mod common;

use common::Server;
use common::answers::{Answers, Dovecot, imap_answers, set_mtime};

/// A message with lines an mbox must quote, in LF as Dovecot stores it.
const FIRST: &str = "From: Anna <anna@example.org>\nTo: u@example.test\nSubject: hello\n\
    Date: Tue, 1 Dec 2026 10:00:00 +0000\nMessage-ID: <1@example.org>\n\nbody\n\
    From me, a line an mbox quotes\n>From one already quoted\n";

fn message(n: usize, subject: &str) -> String {
    format!(
        "From: Bert <bert@example.org>\nTo: u@example.test\nSubject: {subject}\n\
         Date: Tue, 1 Dec 2026 10:0{n}:00 +0000\nMessage-ID: <{n}x@example.org>\n\nmessage {n}\n"
    )
}

/// Dovecot's name of a folder as postamt names it over IMAP: `.` levels
/// become `/`, "Sent Messages" the Sent folder, in modified UTF-7.
fn ours(name: &str) -> String {
    let name = if name == "Sent Messages" { "Sent" } else { name };
    name.split('.')
        .map(wire::imap::utf7::encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// A Maildir that Dovecot wrote: folders with hierarchy, a non-ASCII
/// name, an empty one, every flag, keywords (dovecot-keywords), a message
/// larger than the store keeps inline, and distinct dates.
fn dovecot_maildir() -> Dovecot {
    let dovecot = Dovecot::new("maildir:~/Maildir");
    let d = &dovecot;
    d.doveadm(
        &[
            "mailbox",
            "create",
            "Sent Messages",
            "Lists",
            "Lists.rust",
            "Entwürfe",
            "Empty",
        ],
        None,
    );
    let large = format!("{}{}\n", message(9, "large"), "0123456789abcdef\n".repeat(6000));
    for (mailbox, text) in [
        ("INBOX", FIRST.to_string()),
        ("INBOX", message(2, "answered")),
        ("INBOX", message(3, "unseen")),
        ("INBOX", message(4, "draft")),
        ("INBOX", large),
        ("Sent Messages", message(5, "sent")),
        ("Lists", message(6, "list")),
        ("Lists.rust", message(7, "rust")),
        ("Entwürfe", message(8, "entwurf")),
    ] {
        d.doveadm(&["save", "-m", mailbox], Some(text.as_bytes()));
    }
    for (flags, mailbox, uid) in [
        ("\\Seen $Label1 Work", "INBOX", "1"),
        ("\\Answered \\Flagged $Forwarded \\Seen", "INBOX", "2"),
        ("\\Draft \\Deleted", "INBOX", "4"),
        ("\\Seen", "Sent Messages", "1"),
        ("Work", "Lists.rust", "1"),
    ] {
        d.doveadm(&["flags", "add", flags, "mailbox", mailbox, "uid", uid], None);
    }
    // Dovecot's internal date of a Maildir message is its file's mtime:
    // distinct ones, then its indexes go, so that it reads them afresh.
    let mut files = Vec::new();
    walk(&d.home().join("Maildir"), &mut files);
    files.sort();
    for (i, file) in files.iter().enumerate() {
        let parent = file.parent().unwrap().file_name().unwrap();
        if parent == "cur" || parent == "new" {
            set_mtime(file, 1_780_000_000 + i as i64 * 3600);
        } else if file.file_name().unwrap().to_string_lossy().starts_with("dovecot.index") {
            std::fs::remove_file(file).unwrap();
        }
    }
    assert!(
        std::fs::read_to_string(d.home().join("Maildir/dovecot-keywords"))
            .unwrap()
            .contains("Work"),
        "Dovecot keeps keywords in dovecot-keywords"
    );
    dovecot
}

fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, files);
        } else {
            files.push(path);
        }
    }
}

/// `theirs` (every mailbox the source had) within `ours`, whose other
/// mailboxes (the defaults every account has) are empty.
fn assert_same(ours: &Answers, theirs: &Answers) {
    for (name, messages) in theirs {
        assert_eq!(
            ours.get(name),
            Some(messages),
            "mailbox {name}: ours {ours:#?}\ntheirs {theirs:#?}"
        );
    }
    for (name, messages) in ours {
        assert!(
            theirs.contains_key(name) || messages.is_empty(),
            "mailbox {name} has messages the source has not: {messages:?}"
        );
    }
}

fn count_messages(answers: &Answers) -> usize {
    answers.values().map(Vec::len).sum()
}

#[test]
fn a_dovecot_maildir_imports_with_its_flags_dates_and_folders() {
    let dovecot = dovecot_maildir();
    let theirs = dovecot.answers(ours);
    assert_eq!(count_messages(&theirs), 9);
    let server = Server::with_users("");
    let maildir = dovecot.home().join("Maildir");
    let out = server.admin(&[
        "import",
        "maildir",
        maildir.to_str().unwrap(),
        "--user",
        "alice@example.test",
    ]);
    assert!(out.contains("Imported 9 messages into 6 mailboxes"), "{out}");
    assert!(out.contains("verified 9 content hashes"), "{out}");
    let alice = imap_answers(&server, "alice@example.test");
    assert_same(&alice, &theirs);

    // Again: nothing is imported twice.
    let out = server.admin(&[
        "import",
        "maildir",
        maildir.to_str().unwrap(),
        "--user",
        "alice@example.test",
    ]);
    assert!(
        out.contains("Imported 0 messages into 6 mailboxes") && out.contains("9 already there"),
        "{out}"
    );
    assert_eq!(imap_answers(&server, "alice@example.test"), alice);

    // Under another mailbox: the INBOX becomes it, folders its children.
    let out = server.admin(&[
        "import",
        "maildir",
        maildir.to_str().unwrap(),
        "--user",
        "bob@example.test",
        "--mailbox",
        "Old",
    ]);
    assert!(out.contains("Imported 9 messages"), "{out}");
    let bob = imap_answers(&server, "bob@example.test");
    assert_eq!(bob["Old"], theirs["INBOX"]);
    assert_eq!(bob["Old/Lists/rust"], theirs["Lists/rust"]);
}

#[test]
fn export_then_import_gives_the_same_answers() {
    let dovecot = dovecot_maildir();
    let server = Server::with_users("");
    server.add_user("carol@example.test");
    let maildir = dovecot.home().join("Maildir");
    server.admin(&[
        "import",
        "maildir",
        maildir.to_str().unwrap(),
        "--user",
        "alice@example.test",
    ]);
    let alice = imap_answers(&server, "alice@example.test");
    let out_dir = tempfile::tempdir().unwrap();
    for (format, user) in [("maildir", "bob@example.test"), ("mbox", "carol@example.test")] {
        let dir = out_dir.path().join(format);
        let out = server.admin(&["export", format, dir.to_str().unwrap(), "--user", "alice@example.test"]);
        assert!(
            out.contains("Exported 9 messages from 10 mailboxes") && out.contains("verified 9 content hashes"),
            "{out}"
        );
        let out = server.admin(&["import", format, dir.to_str().unwrap(), "--user", user]);
        assert!(out.contains("Imported 9 messages"), "{out}");
        assert_eq!(imap_answers(&server, user), alice, "{format}");
    }
    // What export wrote, Dovecot reads the same (its own Maildir layout).
    let reader = Dovecot::new("maildir:~/Maildir");
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(out_dir.path().join("maildir"))
        .arg(reader.home().join("Maildir"))
        .status()
        .unwrap();
    assert!(status.success());
    reader.give_to_nobody();
    assert_same(&alice, &reader.answers(ours));
}

/// An mbox as mutt or Dovecot leaves it: Status (R seen), X-Status
/// (A answered, F flagged, T draft, D deleted), X-Keywords, and the
/// internal date on each From line. Dovecot takes keywords only once
/// X-IMAPbase (uidvalidity, uidnext, keywords) in the first message
/// declares them.
const MBOX: &str = "From anna@example.org Tue Dec  1 10:00:00 2026\n\
    From: Anna <anna@example.org>\nSubject: one\nX-IMAPbase: 1796119200 4 $Label1 Work\nStatus: RO\n\
    X-Keywords: $Label1 Work\nX-UID: 1\n\nfirst\n\n\
    From bert@example.org Wed Dec  2 11:30:00 2026\n\
    From: Bert <bert@example.org>\nSubject: two\nStatus: O\nX-Status: AF\n\nsecond\n\n\
    From MAILER-DAEMON Thu Dec  3 12:45:01 2026\n\
    From: Carl <carl@example.org>\nSubject: three\nX-Status: TD\n\nthird\nwith two lines\n\n";

#[test]
fn an_mbox_imports_as_dovecot_reads_it() {
    let dovecot = Dovecot::new("mbox:~/mail:INBOX=~/mail/inbox");
    std::fs::create_dir(dovecot.home().join("mail")).unwrap();
    std::fs::write(dovecot.home().join("mail/inbox"), MBOX).unwrap();
    dovecot.give_to_nobody();
    let theirs = dovecot.answers(|name| name.to_string());
    assert_eq!(theirs["INBOX"].len(), 3);

    let server = Server::with_users("");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), MBOX).unwrap();
    let out = server.admin(&[
        "import",
        "mbox",
        file.path().to_str().unwrap(),
        "--user",
        "alice@example.test",
    ]);
    assert!(
        out.contains("Imported 3 messages into 1 mailboxes") && out.contains("verified 3"),
        "{out}"
    );
    let alice = imap_answers(&server, "alice@example.test");
    assert_eq!(alice["INBOX"], theirs["INBOX"]);
}

#[test]
fn a_whole_account_comes_over_imap_from_another_server() {
    let dovecot = dovecot_maildir();
    let old = Server::with_users("");
    let maildir = dovecot.home().join("Maildir");
    old.admin(&[
        "import",
        "maildir",
        maildir.to_str().unwrap(),
        "--user",
        "alice@example.test",
    ]);
    let alice = imap_answers(&old, "alice@example.test");
    let new = Server::with_users("");
    let port = old.imaps.port().to_string();
    let args = [
        "import",
        "imap",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        "alice@example.test",
        "--to",
        "bob@example.test",
        "--password-stdin",
    ];
    // The old server's certificate is self-signed: refused unless asked.
    let refused = new.admin_output(&args, Some(&format!("{}\n", common::PASSWORD)));
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("TLS") && error.contains("certificate"), "{error}");

    let insecure: Vec<&str> = args.iter().copied().chain(["--insecure"]).collect();
    let copied = new.admin_output(&insecure, Some(&format!("{}\n", common::PASSWORD)));
    let out = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(
        out.contains("Imported 9 messages") && out.contains("verified 9 content hashes"),
        "{out}"
    );
    assert_eq!(imap_answers(&new, "bob@example.test"), alice);

    // Run again (over STARTTLS this time), it copies nothing twice.
    let plain_port = old.imap.port().to_string();
    let starttls: Vec<&str> = insecure
        .iter()
        .map(|a| if *a == port { plain_port.as_str() } else { *a })
        .chain(["--tls", "starttls"])
        .collect();
    let again = new.admin_output(&starttls, Some(&format!("{}\n", common::PASSWORD)));
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(
        out.contains("Imported 0 messages") && out.contains("9 already there"),
        "{out}"
    );
    assert_eq!(imap_answers(&new, "bob@example.test"), alice);
}

#[test]
fn imports_keep_to_the_limits_imap_append_keeps_to() {
    let server = Server::with_users("[imap]\nmax_keywords = 1\n[smtp]\nmax_message_size = 100000\n");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), MBOX).unwrap();
    let refused = server.admin_output(
        &[
            "import",
            "mbox",
            file.path().to_str().unwrap(),
            "--user",
            "alice@example.test",
        ],
        None,
    );
    assert!(!refused.status.success());
    let error = String::from_utf8_lossy(&refused.stderr);
    assert!(error.contains("max_keywords"), "{error}");

    // A message over the size limit is named, the others come in.
    let large = format!(
        "From a@example.org Tue Dec  1 10:00:00 2026\nSubject: large\n\n{}\n\
         From b@example.org Tue Dec  1 11:00:00 2026\nSubject: small\n\nsmall\n\n",
        "x".repeat(120_000)
    );
    std::fs::write(file.path(), large).unwrap();
    let partial = server.admin_output(
        &[
            "import",
            "mbox",
            file.path().to_str().unwrap(),
            "--user",
            "bob@example.test",
        ],
        None,
    );
    assert!(!partial.status.success());
    assert!(String::from_utf8_lossy(&partial.stdout).contains("Imported 1 messages"));
    assert!(String::from_utf8_lossy(&partial.stderr).contains("max_message_size"));
}
