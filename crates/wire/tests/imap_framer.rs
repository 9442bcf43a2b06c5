//! The IMAP framer: where a command ends, found as its bytes arrive, with
//! continuations for synchronising literals and the limits checked before
//! a literal's data is invited (issue 12, attack 2).

use wire::imap::{Frame, Framer, Limits, Refusal, parse_command};

fn limits() -> Limits {
    Limits {
        max_line: 100,
        max_literal: 1000,
        max_depth: 8,
        max_command: 5000,
        max_literals: 4,
    }
}

/// Feeds `input` one byte at a time, as a session would with the smallest
/// reads: the frames that were not "incomplete", with where they came, and
/// the ends where a "+" was due.
fn bytewise(input: &[u8], limits: &Limits) -> (Vec<(usize, Frame)>, Vec<usize>) {
    let mut framer = Framer::new();
    let (mut frames, mut continuations) = (Vec::new(), Vec::new());
    let mut start = 0;
    for end in 1..=input.len() {
        match framer.scan(&input[start..end], limits) {
            Frame::Incomplete { continuation } => {
                if continuation {
                    continuations.push(end);
                }
            }
            frame => {
                start += match frame {
                    Frame::Complete { len }
                    | Frame::TooBig { consumed: len, .. }
                    | Frame::Skip { consumed: len, .. } => len,
                    Frame::Incomplete { .. } => 0,
                };
                frames.push((end, frame));
            }
        }
    }
    (frames, continuations)
}

#[test]
fn byte_by_byte_finds_each_command_and_each_continuation() {
    let first = b"a LOGIN {5}\r\nalice {3}\r\npwd\r\n".as_slice();
    let second = b"b APPEND INBOX (\\Seen) {4+}\r\nb\r\nc\r\n".as_slice();
    let input = [first, second].concat();
    let (frames, continuations) = bytewise(&input, &limits());
    assert_eq!(
        frames,
        [
            (first.len(), Frame::Complete { len: first.len() }),
            (input.len(), Frame::Complete { len: second.len() }),
        ]
    );
    // "+" after each synchronising literal's announcement, none for {4+}.
    assert_eq!(continuations, [13, 24]);
    assert!(parse_command(first, limits()).is_ok() && parse_command(second, limits()).is_ok());
}

#[test]
fn whole_or_in_pieces_the_same_end() {
    let input = b"a SEARCH TEXT {0}\r\n TEXT \"x{5}\" SUBJECT ~{3}\r\n\r\n\n\r\n".as_slice();
    let mut framer = Framer::new();
    assert_eq!(framer.scan(input, &limits()), Frame::Complete { len: input.len() });
    for piece in [1, 2, 3, 7, 16] {
        let mut framer = Framer::new();
        let mut end = 0;
        let frame = loop {
            end = (end + piece).min(input.len());
            match framer.scan(&input[..end], &limits()) {
                Frame::Incomplete { .. } => assert!(end < input.len()),
                frame => break frame,
            }
        };
        assert_eq!(frame, Frame::Complete { len: input.len() }, "pieces of {piece}");
    }
}

#[test]
fn a_literal_is_stepped_over_not_read() {
    // The data of a literal may hold anything, line ends and braces too.
    let input = b"a LOGIN {12}\r\n\n{3}\r\n\"\r\n{1} x\r\nb NOOP\r\n".as_slice();
    let (frames, _) = bytewise(input, &limits());
    assert_eq!(frames[0], (30, Frame::Complete { len: 30 }));
    assert_eq!(frames[1].1, Frame::Complete { len: 8 });
}

#[test]
fn quoted_strings_hold_braces_and_do_not_span_lines() {
    let mut framer = Framer::new();
    let escaped = b"a LOGIN \"a\\\"{5}\" b\r\n";
    assert_eq!(framer.scan(escaped, &limits()), Frame::Complete { len: escaped.len() });
    // An unterminated quote: the line ends the command, which is bad.
    let mut framer = Framer::new();
    let open = b"a LOGIN \"x{5}\r\n";
    assert_eq!(framer.scan(open, &limits()), Frame::Complete { len: open.len() });
    assert!(parse_command(open, limits()).is_err());
}

#[test]
fn literals_over_the_limits_are_refused_at_their_announcement() {
    let cases: [(&[u8], Refusal); 5] = [
        (b"a APPEND INBOX {1001}\r\n", Refusal::Literal),
        (b"a APPEND INBOX {1001+}\r\n", Refusal::NonSynchronisingLiteral),
        (b"a LOGIN {99999999999999999999999}\r\n", Refusal::Literal),
        // The fifth literal, over max_literals.
        (
            b"a SEARCH TEXT {1+}\r\nx TEXT {1+}\r\nx TEXT {1+}\r\nx TEXT {1+}\r\nx TEXT {1}\r\n",
            Refusal::Literal,
        ),
        // Within max_literal, but over max_command with what came before.
        (b"a APPEND INBOX {999+}\r\n", Refusal::NonSynchronisingLiteral),
    ];
    for (index, (input, refusal)) in cases.into_iter().enumerate() {
        let mut limits = limits();
        if index == 4 {
            limits.max_command = 1000;
        }
        let (frames, continuations) = bytewise(input, &limits);
        assert_eq!(
            frames,
            [(
                input.len(),
                Frame::TooBig {
                    consumed: input.len(),
                    tag: Some("a".into()),
                    refusal
                }
            )],
            "{}",
            String::from_utf8_lossy(input)
        );
        assert!(continuations.is_empty(), "no + for a refused literal");
    }
}

#[test]
fn a_long_line_is_refused_and_skipped_to_its_end() {
    let long = [b"a ID (\"".as_slice(), &[b'n'; 200], b"\")\r\nb NOOP\r\n"].concat();
    let (frames, _) = bytewise(&long, &limits());
    assert_eq!(
        frames[0],
        (
            100,
            Frame::TooBig {
                consumed: 100,
                tag: Some("a".into()),
                refusal: Refusal::Line
            }
        )
    );
    // Fed a byte at a time, the rest of the line goes a byte at a time.
    let skipped = &frames[1..frames.len() - 1];
    assert!(
        skipped
            .iter()
            .all(|(_, frame)| matches!(frame, Frame::Skip { consumed: 1, .. }))
    );
    assert_eq!(
        skipped.last().map(|(_, frame)| frame),
        Some(&Frame::Skip {
            consumed: 1,
            done: true
        })
    );
    assert_eq!(frames.last().map(|(_, frame)| frame), Some(&Frame::Complete { len: 8 }));
}

#[test]
fn a_skipped_line_that_announces_a_literal() {
    let limits = limits();
    let line = [b"a ID (".as_slice(), &[b'n'; 200]].concat();
    // Synchronising: never invited, so the command ends with the line.
    let mut framer = Framer::new();
    assert!(matches!(
        framer.scan(&line, &limits),
        Frame::TooBig {
            refusal: Refusal::Line,
            ..
        }
    ));
    assert_eq!(
        framer.scan(b" {5}\r\n", &limits),
        Frame::Skip {
            consumed: 6,
            done: true
        }
    );
    // Non-synchronising: its data is coming; the session must end.
    let mut framer = Framer::new();
    framer.scan(&line, &limits);
    assert_eq!(
        framer.scan(b" {5+}\r\n", &limits),
        Frame::TooBig {
            consumed: 7,
            tag: None,
            refusal: Refusal::NonSynchronisingLiteral
        }
    );
}

#[test]
fn many_reads_of_a_big_command_scan_each_byte_once() {
    // 200 000 literals of one byte, fed in 64 KiB reads: the framer only
    // looks at what each read adds, so this is quick even unoptimised
    // (the re-parse it replaces examined every byte again on every read).
    let limits = Limits {
        max_literals: usize::MAX,
        max_command: u64::MAX,
        ..Limits::default()
    };
    let input = [
        b"a SEARCH TEXT {1+}\r\nx".as_slice(),
        &b" TEXT {1+}\r\nx".repeat(200_000),
        b"\r\n",
    ]
    .concat();
    let mut framer = Framer::new();
    let mut end = 0;
    let frame = loop {
        end = (end + 65536).min(input.len());
        match framer.scan(&input[..end], &limits) {
            Frame::Incomplete { continuation } => assert!(!continuation),
            frame => break frame,
        }
    };
    assert_eq!(frame, Frame::Complete { len: input.len() });
}

/// Issue 13, defect 3: the framer and the parser agree on `~`. Where it is
/// an atom character the command ends at its line; `~{n}` announces a
/// literal to both wherever it ends a line, so a command that misuses it
/// ends after the literal's data, where the parser's BAD leaves the next
/// command intact.
#[test]
fn tilde_atoms_and_tilde_literals_end_where_the_parser_says() {
    let cases: [(&[u8], bool); 5] = [
        (b"a SELECT ~foo\r\n", true),
        (b"a LIST \"\" ~foo/%\r\n", true),
        (b"a APPEND INBOX ~{3}\r\na\0b\r\n", true),
        (b"a APPEND INBOX ~{3+}\r\na\0b\r\n", true),
        (b"a SELECT ~{3}\r\nabc\r\n", false),
    ];
    for (command, valid) in cases {
        let next = b"b NOOP\r\n".as_slice();
        let input = [command, next].concat();
        let (frames, _) = bytewise(&input, &limits());
        assert_eq!(
            frames,
            [
                (command.len(), Frame::Complete { len: command.len() }),
                (input.len(), Frame::Complete { len: next.len() }),
            ],
            "{command:?}"
        );
        assert_eq!(parse_command(command, limits()).is_ok(), valid, "{command:?}");
        assert!(parse_command(next, limits()).is_ok());
    }
}
