//! The seed corpus of the three session targets, written in the input
//! encoding (`session_fuzz::input`): each seed is a list of client writes.
//! `tests/seeds.rs` checks that `fuzz/corpus/<target>/` holds exactly
//! these (and rewrites them with `SESSION_FUZZ_WRITE_SEEDS=1`).

#![allow(dead_code)]

use base64::Engine;
use session_fuzz::input::encode;

pub type Seed = (&'static str, Vec<u8>);

fn plain(user: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0secret"))
}

fn seed(name: &'static str, alternate: bool, chunks: &[&str]) -> Seed {
    let chunks: Vec<&[u8]> = chunks.iter().map(|c| c.as_bytes()).collect();
    (name, encode(alternate, &chunks))
}

pub fn smtp() -> Vec<Seed> {
    [smtp_transactions(), smtp_more()].concat()
}

/// The SMTP seeds with a transaction or a login.
fn smtp_transactions() -> Vec<Seed> {
    let auth = format!("AUTH PLAIN {}\r\n", plain("alice@example.org"));
    let auth_later = format!("{}\r\n", plain("alice@example.org"));
    vec![
        seed(
            "transaction",
            false,
            &[
                "EHLO client.example\r\n",
                "MAIL FROM:<bob@other.example>\r\n",
                "RCPT TO:<alice@example.org>\r\n",
                "DATA\r\n",
                "Subject: hello\r\n\r\nhello\r\n.\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "pipelining",
            false,
            &[
                "EHLO client.example\r\n",
                "MAIL FROM:<bob@other.example> SIZE=40\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nDATA\r\n",
                "Subject: piped\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
            ],
        ),
        seed(
            "bdat",
            false,
            &[
                "EHLO client.example\r\n",
                "MAIL FROM:<bob@other.example> BODY=BINARYMIME\r\nRCPT TO:<alice@example.org>\r\n",
                "BDAT 10\r\nSubject: b",
                "BDAT 10 LAST\r\n\r\n\r\nbody\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "auth_plain_submission",
            true,
            &[
                "EHLO client.example\r\n",
                &auth,
                "MAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@far.example>\r\nDATA\r\n",
                "Subject: out\r\n\r\nsubmitted\r\n.\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "auth_plain_challenge",
            true,
            &["EHLO client.example\r\n", "AUTH PLAIN\r\n", &auth_later, "QUIT\r\n"],
        ),
        seed(
            "auth_login_wrong",
            true,
            &[
                "EHLO client.example\r\n",
                "AUTH LOGIN\r\n",
                "YWxpY2VAZXhhbXBsZS5vcmc=\r\n",
                "d3Jvbmc=\r\n",
                "QUIT\r\n",
            ],
        ),
    ]
}

/// The SMTP seeds without a transaction that completes.
fn smtp_more() -> Vec<Seed> {
    vec![
        seed(
            "starttls_refused",
            false,
            &["EHLO client.example\r\n", "STARTTLS\r\n", "NOOP\r\nQUIT\r\n"],
        ),
        seed(
            "rset",
            false,
            &[
                "HELO client.example\r\n",
                "MAIL FROM:<>\r\nRCPT TO:<postmaster>\r\n",
                "RSET\r\n",
                "DATA\r\n",
                "VRFY alice\r\nHELP\r\nNOOP\r\nQUIT\r\n",
            ],
        ),
        seed(
            "relay_denied_and_errors",
            false,
            &[
                "EHLO client.example\r\n",
                "MAIL FROM:<bob@other.example>\r\nRCPT TO:<carol@far.example>\r\n",
                "FOO\r\nMAIL FROM:<broken\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "data_split_lines",
            false,
            &[
                "EHLO client.example\r\nMAIL FROM:<bob@other.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n",
                "Subject: split\r\n\r\nline one\r",
                "\nline two\r\n.",
                "\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "bare_lf_data",
            false,
            &[
                "EHLO client.example\r\nMAIL FROM:<bob@other.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n",
                "Subject: smuggle\r\n\r\nbody\n.\nMAIL FROM:<x@y.z>\r\n.\r\n",
                "QUIT\r\n",
            ],
        ),
        seed("http_request", false, &["GET / HTTP/1.1\r\nHost: x\r\n\r\n"]),
    ]
}

pub fn pop3() -> Vec<Seed> {
    let auth = format!("AUTH PLAIN {}\r\n", plain("alice@example.test"));
    let auth_later = format!("{}\r\n", plain("alice@example.test"));
    vec![
        seed(
            "user_pass_stat_quit",
            false,
            &["USER alice@example.test\r\n", "PASS secret\r\n", "STAT\r\n", "QUIT\r\n"],
        ),
        seed(
            "list_uidl",
            false,
            &[
                "USER alice@example.test\r\nPASS secret\r\n",
                "LIST\r\n",
                "LIST 2\r\nUIDL\r\nUIDL 3\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "top_retr",
            false,
            &[
                "USER alice@example.test\r\nPASS secret\r\n",
                "TOP 2 0\r\n",
                "TOP 3 1\r\nRETR 2\r\n",
                "RETR 1\r\nQUIT\r\n",
            ],
        ),
        seed(
            "dele_rset",
            false,
            &[
                "USER alice@example.test\r\nPASS secret\r\n",
                "DELE 1\r\nDELE 1\r\nSTAT\r\n",
                "RSET\r\nLIST\r\n",
                "DELE 2\r\nQUIT\r\n",
            ],
        ),
        seed(
            "capa_auth",
            false,
            &["CAPA\r\n", "AUTH\r\n", &auth, "CAPA\r\nNOOP\r\nQUIT\r\n"],
        ),
        seed(
            "auth_continuation",
            false,
            &["AUTH PLAIN\r\n", &auth_later, "STAT\r\nQUIT\r\n"],
        ),
        seed(
            "wrong_password",
            false,
            &[
                "USER alice@example.test\r\n",
                "PASS wrong\r\n",
                "USER nobody@example.test\r\nPASS secret\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "transaction_before_login",
            false,
            &["STAT\r\nLIST\r\nRETR 1\r\n", "STLS\r\n", "QUIT\r\n"],
        ),
        seed(
            "empty_maildrop",
            true,
            &[
                "USER alice@example.test\r\nPASS secret\r\n",
                "STAT\r\nLIST\r\nRETR 1\r\nUIDL\r\n",
                "QUIT\r\n",
            ],
        ),
        seed(
            "split_command",
            false,
            &["US", "ER alice@exa", "mple.test\r\nPA", "SS secret\r", "\nRETR 3\r\n"],
        ),
        seed(
            "errors",
            false,
            &[
                "USER\r\nPASS\r\nFOO\r\n",
                "USER alice@example.test\r\nPASS secret\r\nLIST 0\r\nTOP 1\r\nRETR 9\r\nDELE x\r\n",
            ],
        ),
    ]
}

pub fn imap() -> Vec<Seed> {
    [imap_login_and_fetch(), imap_more()].concat()
}

/// The IMAP seeds that log in, fetch, append and idle.
fn imap_login_and_fetch() -> Vec<Seed> {
    vec![
        seed(
            "login_select_fetch",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\n",
                "a2 SELECT INBOX\r\n",
                "a3 FETCH 1:* (FLAGS UID RFC822.SIZE)\r\n",
                "a4 FETCH 3 (BODYSTRUCTURE BODY[])\r\n",
                "a5 LOGOUT\r\n",
            ],
        ),
        seed(
            "fetch_parts",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n",
                "a3 FETCH 3 (BODY.PEEK[1] BODY[HEADER.FIELDS (SUBJECT)] ENVELOPE)\r\n",
                "a4 UID FETCH 1:2 (BODY[TEXT]<0.5> INTERNALDATE)\r\n",
                "a5 LOGOUT\r\n",
            ],
        ),
        seed(
            "append_literal",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\n",
                "a2 APPEND INBOX (\\Seen) {23}\r\n",
                "Subject: new\r\n\r\nhello\r\n\r\n",
                "a3 APPEND INBOX {23+}\r\nSubject: plus\r\n\r\nbody\r\n\r\n",
                "a4 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)\r\na5 LOGOUT\r\n",
            ],
        ),
        seed(
            "idle_done",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n",
                "a3 IDLE\r\n",
                "DONE\r\n",
                "a4 NOOP\r\na5 LOGOUT\r\n",
            ],
        ),
    ]
}

/// The IMAP seeds that work on a selected mailbox's messages and names.
fn imap_more() -> Vec<Seed> {
    vec![
        seed(
            "search",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 EXAMINE INBOX\r\n",
                "a3 SEARCH UNSEEN\r\n",
                "a4 UID SEARCH OR SUBJECT two FLAGGED\r\n",
                "a5 SEARCH RETURN (MIN MAX COUNT) ALL\r\na6 LOGOUT\r\n",
            ],
        ),
        seed(
            "store_flags",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n",
                "a3 STORE 1:2 +FLAGS (\\Deleted $Label)\r\n",
                "a4 UID STORE 3 -FLAGS.SILENT (\\Flagged)\r\n",
                "a5 FETCH 1:* FLAGS\r\na6 LOGOUT\r\n",
            ],
        ),
        seed(
            "copy_move_expunge",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n",
                "a3 COPY 1 Archive\r\n",
                "a4 MOVE 2 Trash\r\n",
                "a5 STORE 1 +FLAGS (\\Deleted)\r\na6 EXPUNGE\r\n",
                "a7 STATUS Trash (MESSAGES)\r\na8 CLOSE\r\na9 LOGOUT\r\n",
            ],
        ),
        seed(
            "mailboxes",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\n",
                "a2 CREATE Projects/Work\r\na3 LIST \"\" *\r\n",
                "a4 RENAME Projects Old\r\na5 LSUB \"\" *\r\na6 DELETE Old/Work\r\n",
                "a7 LOGOUT\r\n",
            ],
        ),
        seed(
            "authenticate",
            false,
            &[
                "a1 CAPABILITY\r\n",
                "a2 AUTHENTICATE PLAIN\r\n",
                "AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n",
                "a3 SELECT INBOX\r\na4 LOGOUT\r\n",
            ],
        ),
        seed(
            "pipelined_and_split",
            false,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\na3 FETCH 2 BODY[]\r\n",
                "a4 FETCH 1 (FL",
                "AGS)\r\na5 NOOP\r",
                "\na6 LOGOUT\r\n",
            ],
        ),
        seed(
            "errors_before_login",
            false,
            &[
                "a1 SELECT INBOX\r\n",
                "a2 LOGIN alice@example.test wrong\r\n",
                "* BAD\r\na3 FOO\r\n\r\n",
                "a4 STARTTLS\r\na5 LOGOUT\r\n",
            ],
        ),
        seed(
            "empty_inbox",
            true,
            &[
                "a1 LOGIN alice@example.test secret\r\na2 SELECT INBOX\r\n",
                "a3 FETCH 1:* FLAGS\r\na4 SEARCH ALL\r\na5 EXPUNGE\r\n",
                "a6 LOGOUT\r\n",
            ],
        ),
    ]
}
