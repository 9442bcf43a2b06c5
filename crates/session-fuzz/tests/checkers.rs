//! The invariant checkers fire on known bad transcripts and pass good
//! ones; and through the driver's test hook, a bad reply injected into a
//! real session's output is caught by the run itself.

use session_fuzz::imap_check::check_imap;
use session_fuzz::pop3_check::check_pop3;
use session_fuzz::smtp_check::{SmtpFacts, check_smtp};
use session_fuzz::transcript::{Transcript, check_memory};

fn facts(accepted: usize) -> SmtpFacts {
    SmtpFacts {
        accepted,
        largest: if accepted > 0 { 100 } else { 0 },
        max_message_size: 1000,
        max_line: 512,
    }
}

const GREETING: &str = "220 mx ESMTP\r\n";

fn fires(result: Result<(), session_fuzz::transcript::Violation>, words: &str) {
    match result {
        Ok(()) => panic!("the check did not fire (expected {words:?})"),
        Err(v) => assert!(v.0.contains(words), "expected {words:?} in {:?}", v.0),
    }
}

fn smtp_good() -> Vec<(&'static str, &'static str)> {
    vec![
        ("", GREETING),
        (
            "EHLO c\r\nMAIL FROM:<a@b.c>\r\n",
            "250-mx\r\n250 PIPELINING\r\n250 Ok\r\n",
        ),
        ("RCPT TO:<d@e.f>\r\nDATA\r\n", "250 Ok\r\n354 Go\r\n"),
        ("hi\r\n.\r\nQUIT\r\n", "250 Ok: queued\r\n221 Bye\r\n"),
        ("", ""),
    ]
}

#[test]
fn smtp_good_transcript_passes() {
    check_smtp(&Transcript::of(&smtp_good(), true), &facts(1)).unwrap();
    // While the session goes on, a reply still to come is no violation.
    let partial = Transcript::of(&[("", GREETING), ("NOOP\r\n", "")], false);
    check_smtp(&partial, &facts(0)).unwrap();
}

#[test]
fn smtp_reply_before_its_command_fires() {
    let t = Transcript::of(&[("", "220 mx\r\n250 Ok\r\n"), ("NOOP\r\n", "")], true);
    fires(check_smtp(&t, &facts(0)), "before its command");
}

#[test]
fn smtp_extra_reply_fires() {
    let t = Transcript::of(&[("", GREETING), ("NOOP\r\n", "250 Ok\r\n250 Ok\r\n"), ("", "")], true);
    fires(check_smtp(&t, &facts(0)), "extra reply");
}

#[test]
fn smtp_missing_reply_fires_once_the_session_ended() {
    let t = Transcript::of(&[("", GREETING), ("NOOP\r\nNOOP\r\n", "250 Ok\r\n"), ("", "")], true);
    fires(check_smtp(&t, &facts(0)), "no reply to NOOP");
}

#[test]
fn smtp_reply_after_221_fires() {
    let t = Transcript::of(
        &[("", GREETING), ("QUIT\r\nNOOP\r\n", "221 Bye\r\n250 Ok\r\n"), ("", "")],
        true,
    );
    fires(check_smtp(&t, &facts(0)), "after the closing 221");
}

#[test]
fn smtp_message_accepted_without_its_250_fires() {
    let mut steps = smtp_good();
    steps[3].1 = "451 Try later\r\n221 Bye\r\n";
    fires(
        check_smtp(&Transcript::of(&steps, true), &facts(1)),
        "only 0 were answered 250",
    );
    // And a 250 for a message the backend never saw.
    fires(
        check_smtp(&Transcript::of(&smtp_good(), true), &facts(0)),
        "the backend accepted 0",
    );
}

#[test]
fn smtp_message_over_the_limit_fires() {
    let facts = SmtpFacts {
        largest: 5000,
        ..facts(1)
    };
    fires(
        check_smtp(&Transcript::of(&smtp_good(), true), &facts),
        "more than the limit",
    );
}

#[test]
fn smtp_replies_in_order_through_data_and_auth() {
    let t = Transcript::of(
        &[
            ("", GREETING),
            ("AUTH PLAIN\r\n", "334 \r\n"),
            (
                "AGEAYg==\r\nBDAT 3 LAST\r\nabcNOOP\r\n",
                "535 No\r\n503 No MAIL\r\n250 Ok\r\n",
            ),
            ("", ""),
        ],
        true,
    );
    check_smtp(&t, &facts(0)).unwrap();
}

const POP_GREETING: &str = "+OK ready\r\n";

#[test]
fn pop3_good_transcript_passes() {
    let t = Transcript::of(
        &[
            ("", POP_GREETING),
            ("USER a\r\nPASS b\r\nLIST\r\n", "+OK\r\n+OK in\r\n+OK\r\n1 10\r\n.\r\n"),
            ("RETR 1\r\nQUIT\r\n", "+OK\r\n..dot\r\nx\r\n.\r\n+OK bye\r\n"),
            ("", ""),
        ],
        true,
    );
    check_pop3(&t, 255).unwrap();
}

#[test]
fn pop3_second_status_for_one_command_fires() {
    let t = Transcript::of(
        &[("", POP_GREETING), ("NOOP\r\n", "-ERR no\r\n-ERR again\r\n"), ("", "")],
        true,
    );
    fires(check_pop3(&t, 255), "no command asked for");
}

#[test]
fn pop3_output_after_quit_fires() {
    let t = Transcript::of(
        &[("", POP_GREETING), ("QUIT\r\n", "+OK bye\r\n+OK more\r\n"), ("", "")],
        true,
    );
    fires(check_pop3(&t, 255), "after the goodbye");
}

#[test]
fn pop3_unstuffed_body_line_fires() {
    let t = Transcript::of(
        &[("", POP_GREETING), ("RETR 1\r\n", "+OK\r\n.dot\r\n.\r\n"), ("", "")],
        true,
    );
    fires(check_pop3(&t, 255), "unstuffed");
}

#[test]
fn pop3_missing_status_fires_once_the_session_ended() {
    let t = Transcript::of(
        &[("", POP_GREETING), ("STAT\r\nNOOP\r\n", "-ERR no\r\n"), ("", "")],
        true,
    );
    fires(check_pop3(&t, 255), "no status line");
}

const IMAP_GREETING: &str = "* OK ready\r\n";

#[test]
fn imap_good_transcript_passes() {
    let t = Transcript::of(
        &[
            ("", IMAP_GREETING),
            ("a1 LOGIN u p\r\na2 APPEND INBOX {3}\r\n", "a1 OK in\r\n+ go\r\n"),
            (
                "abc\r\na3 FETCH 1 BODY[]\r\n",
                "a2 OK\r\n* 1 FETCH (BODY[] {4}\r\nx\r\ny)\r\na3 OK\r\n",
            ),
            ("a4 IDLE\r\n", "+ idling\r\n"),
            ("DONE\r\na5 LOGOUT\r\n", "a4 OK\r\n* BYE bye\r\na5 OK\r\n"),
            ("", ""),
        ],
        true,
    );
    check_imap(&t).unwrap();
}

#[test]
fn imap_second_tagged_reply_fires() {
    let t = Transcript::of(
        &[("", IMAP_GREETING), ("a1 NOOP\r\n", "a1 OK\r\na1 OK\r\n"), ("", "")],
        true,
    );
    fires(check_imap(&t), "number 2 for tag \"a1\"");
}

#[test]
fn imap_reply_for_a_tag_never_sent_fires() {
    let t = Transcript::of(
        &[("", IMAP_GREETING), ("a1 NOOP\r\n", "a1 OK\r\nb7 OK\r\n"), ("", "")],
        true,
    );
    fires(check_imap(&t), "sent 0 times");
}

#[test]
fn imap_reply_after_bye_fires() {
    let t = Transcript::of(
        &[
            ("", IMAP_GREETING),
            ("a1 LOGOUT\r\n", "* BYE bye\r\na1 OK\r\n* 1 EXISTS\r\n"),
            ("", ""),
        ],
        true,
    );
    fires(check_imap(&t), "after \"* BYE bye\"");
}

#[test]
fn imap_continuation_without_a_reason_fires() {
    let t = Transcript::of(
        &[("", IMAP_GREETING), ("a1 NOOP\r\n", "+ more?\r\na1 OK\r\n"), ("", "")],
        true,
    );
    fires(check_imap(&t), "continuation");
}

#[test]
fn imap_missing_tagged_reply_fires_once_the_session_ended() {
    let t = Transcript::of(
        &[("", IMAP_GREETING), ("a1 NOOP\r\na2 NOOP\r\n", "a2 OK\r\n"), ("", "")],
        true,
    );
    fires(check_imap(&t), "tag \"a1\" was sent 1 times and answered 0 times");
}

#[test]
fn imap_malformed_response_fires() {
    let t = Transcript::of(&[("", IMAP_GREETING), ("a1 NOOP\r\n", "a1 MAYBE\r\n"), ("", "")], true);
    fires(check_imap(&t), "malformed");
}

#[test]
fn memory_over_the_bound_fires() {
    check_memory(1000, 1000).unwrap();
    fires(check_memory(1001, 1000), "more than its limits allow");
}

/// The hook injects bytes into a real session's output: the run's own
/// checks must catch them.
#[test]
fn injected_replies_are_caught_in_real_sessions() {
    use session_fuzz::driver::inject;
    use session_fuzz::input::encode;

    let imap = encode(
        false,
        &[
            b"a1 LOGIN alice@example.test secret\r\n",
            b"a2 NOOP\r\n",
            b"a3 LOGOUT\r\n",
        ],
    );
    session_fuzz::imap::session(&imap).unwrap();
    inject(2, b"a2 OK again\r\n");
    fires(session_fuzz::imap::session(&imap).map(drop), "number 2 for tag \"a2\"");
    inject(3, b"* 3 EXISTS\r\n");
    fires(session_fuzz::imap::session(&imap).map(drop), "after \"* BYE");

    let smtp = encode(false, &[b"EHLO c\r\n", b"NOOP\r\n", b"QUIT\r\n"]);
    session_fuzz::smtp::session(&smtp).unwrap();
    inject(1, b"250 2.0.0 Ok\r\n");
    fires(session_fuzz::smtp::session(&smtp).map(drop), "extra reply");
    inject(3, b"250 2.0.0 Ok\r\n");
    fires(session_fuzz::smtp::session(&smtp).map(drop), "after the closing 221");

    let pop3 = encode(false, &[b"CAPA\r\n", b"QUIT\r\n"]);
    session_fuzz::pop3::session(&pop3).unwrap();
    inject(2, b"+OK more\r\n");
    fires(session_fuzz::pop3::session(&pop3).map(drop), "after the goodbye");
    // The hook is spent: the next run is clean again.
    session_fuzz::pop3::session(&pop3).unwrap();
}
