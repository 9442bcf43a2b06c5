//! Review of issue 13, finding 4, end to end: `[imap] max_keywords` and
//! `[imap] max_keyword_length` from the configuration file bound the
//! keywords of a mailbox (the behaviour itself is tested in the imapd
//! crate's tests/keywords.rs).

mod common;

use common::Server;

#[test]
fn the_keyword_bounds_are_read_from_the_configuration() {
    let server = Server::with_users("[imap]\nmax_keywords = 2\nmax_keyword_length = 8\n");
    server.python(
        r#"
import mailtest
client = mailtest.imap("alice@example.test")
message = b"From: a@x.test\r\nSubject: keywords\r\n\r\nbody\r\n"
typ, _ = client.append("INBOX", None, None, message)
assert typ == "OK"
typ, _ = client.select("INBOX")
assert typ == "OK"
permanent = client.untagged_responses.get("PERMANENTFLAGS", [b""])[0]
assert b"\\*" in permanent, permanent
typ, data = client.store("1", "+FLAGS", "($a123456 $b)")
assert typ == "OK", data
# A third keyword, and one longer than 8 bytes.
for flags in ["($c)", "($d123456789)"]:
    typ, data = client.store("1", "+FLAGS", flags)
    assert typ == "NO" and data[0].startswith(b"[LIMIT]"), (flags, typ, data)
typ, _ = client.select("INBOX")
permanent = client.untagged_responses.get("PERMANENTFLAGS", [b""])[0]
assert b"\\*" not in permanent, permanent
"#,
    );
}
