//! A real client syncing both ways: mbsync (Debian package isync) copies a
//! mailbox of several hundred varied messages down into a Maildir and
//! back up, and nothing is lost or changed.

mod common;

use std::process::Command;

use common::{PASSWORD, Server};

#[test]
fn mbsync_copies_a_mailbox_down_and_back_up_without_loss() {
    let server = Server::with_users("");
    // Several hundred varied messages: sizes, 8-bit text, multipart with
    // attachments, flags.
    server.python(
        r#"
import base64, random, mailtest
random.seed(11)
client = mailtest.imap("alice@example.test", "implicit")
for n in range(300):
    lines = ["".join(random.choice("abcdefghij äöü€.") for _ in range(random.randint(0, 120)))
             for _ in range(random.randint(0, 40))]
    body = "\r\n".join(lines)
    if n % 5 == 0:
        attachment = base64.encodebytes(random.randbytes(random.randint(10, 20000))).replace(b"\n", b"\r\n")
        message = (b"From: Sender %d <s%d@other.test>\r\nTo: alice@example.test\r\nSubject: message %d\r\n"
                   b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n"
                   b"--b%d\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                   % (n, n, n, n, n)) + body.encode() + (b"\r\n--b%d\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n" % n) + attachment + b"--b%d--\r\n" % n
    else:
        message = (b"From: s%d@other.test\r\nSubject: message %d\r\n\r\n" % (n, n)) + body.encode() + b"\r\n"
    flags = ["(\\Seen)", "(\\Flagged \\Seen)", "()", "($Label1)"][n % 4]
    assert client.append("INBOX", flags, '"01-Jan-2026 12:00:00 +0000"', message)[0] == "OK"
client.logout()
"#,
    );
    let local = server.dir.path().join("maildir");
    std::fs::create_dir(&local).unwrap();
    let config = server.dir.path().join("mbsyncrc");
    std::fs::write(
        &config,
        format!(
            "IMAPAccount remote\nHost localhost\nPort {port}\nUser alice@example.test\nPass \"{PASSWORD}\"\n\
             SSLType IMAPS\nCertificateFile {cert}\n\n\
             IMAPStore remote\nAccount remote\n\n\
             MaildirStore local\nPath {local}/\nInbox {local}/INBOX\nSubFolders Verbatim\n\n\
             Channel sync\nFar :remote:\nNear :local:\nPatterns *\nCreate Both\nExpunge Both\nSyncState *\nSync All\n",
            port = server.imaps.port(),
            cert = server.dir.path().join("data/tls-selfsigned.crt").display(),
            local = local.display(),
        ),
    )
    .unwrap();
    let mbsync = || {
        let output = Command::new("mbsync")
            .arg("-c")
            .arg(&config)
            .arg("-a")
            .output()
            .expect("mbsync must be installed (apt-get install isync)");
        assert!(
            output.status.success(),
            "mbsync failed:\n{}\n{}\n--- server log ---\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            server.log()
        );
    };
    mbsync();
    // Down: every message, byte-exact, with its flags in the file name.
    server.python(&format!(
        r#"
import os, mailtest
local = {local:?}
client = mailtest.imap("alice@example.test", "implicit")
client.select("INBOX")
typ, data = client.fetch("1:*", "(BODY.PEEK[] FLAGS)")
server_messages = sorted(part[1] for part in data if isinstance(part, tuple))
assert len(server_messages) == 300
files = [os.path.join(local, "INBOX", "cur", f) for f in os.listdir(os.path.join(local, "INBOX", "cur"))]
files += [os.path.join(local, "INBOX", "new", f) for f in os.listdir(os.path.join(local, "INBOX", "new"))]
# mbsync keeps Maildir files with LF line ends, as Maildir does, and marks
# what it stores with an X-TUID header of its own.
import re
local_messages = sorted(re.sub(rb"(?m)^X-TUID: [^\n]*\n", b"", open(f, "rb").read(), count=1) for f in files)
expected_local = sorted(m.replace(b"\r\n", b"\n") for m in server_messages)
if local_messages != expected_local:
    diff = [(a[:300], b[:300]) for a, b in zip(local_messages, expected_local) if a != b]
    raise SystemExit("content changed on the way down: %d differ, first: %r" % (len(diff), diff[:1]))
flagged = [f for f in files if ":2," in f and "F" in f.split(":2,")[1]]
assert len(flagged) == 75, len(flagged)
# Up: a new folder with messages, a flag change, and a deletion.
os.makedirs(os.path.join(local, "Uploaded", "cur"))
os.makedirs(os.path.join(local, "Uploaded", "new"))
os.makedirs(os.path.join(local, "Uploaded", "tmp"))
for n in range(20):
    with open(os.path.join(local, "Uploaded", "new", "up%d.local" % n), "wb") as f:
        f.write(b"From: alice@example.test\nSubject: uploaded %d\n\n\xc3\xa4 body %d\n" % (n, n))
unseen = [f for f in files if f.endswith(":2,")]
os.rename(unseen[0], unseen[0] + "S")
seen = [f for f in files if f.endswith(":2,S")]
os.rename(seen[0], seen[0][:-1] + "ST")
client.logout()
"#,
        local = local.display().to_string()
    ));
    mbsync();
    server.python(
        r#"
import mailtest
client = mailtest.imap("alice@example.test", "implicit")
typ, data = client.select("Uploaded")
assert typ == "OK" and data == [b"20"], data
typ, data = client.fetch("1:*", "(BODY.PEEK[])")
# Apart from the X-TUID header mbsync adds to what it uploads.
import re
uploaded = sorted(re.sub(rb"(?m)^X-TUID: [^\r]*\r\n", b"", part[1]) for part in data if isinstance(part, tuple))
expected = sorted(b"From: alice@example.test\r\nSubject: uploaded %d\r\n\r\n\xc3\xa4 body %d\r\n" % (n, n) for n in range(20))
assert uploaded == expected, ("content changed on the way up", uploaded[:1], expected[:1])
typ, data = client.select("INBOX")
assert data == [b"299"], data
typ, data = client.search(None, "UNSEEN")
assert len(data[0].split()) == 149, data
client.logout()
"#,
    );
}
