//! Entry points for the fuzz targets in `fuzz/`, kept here so that
//! `cargo test` replays the committed corpus through exactly the same code
//! on stable Rust. Each one feeds arbitrary bytes to a codec and checks the
//! properties that must hold for every input; a violated one panics.

use crate::dot::DotStuffer;
use crate::pop3::TopFilter;
use crate::smtp::{DataOutcome, DataReader};

/// The SMTP command parser never reads past its input, and the bytes it
/// reports consumed form one line. Writers round-trip with their parsers:
/// xtext (DSN parameters) and SMTP replies.
pub fn smtp_command(data: &[u8]) {
    use crate::smtp::{CommandError, MAX_REPLY_LINES, Reply, parse_command, parse_response};
    let text = String::from_utf8_lossy(data);
    let lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let mut encoded = Vec::new();
    Reply::plain(250, lines.clone()).encode(&mut encoded);
    // Our replies read back whole, up to the line count a client accepts
    // from anyone (beyond it, the client refuses rather than buffers).
    match parse_response(&encoded, usize::MAX) {
        Ok((reply, used)) => {
            assert_eq!(used, encoded.len());
            assert_eq!(reply.lines.len(), lines.len().max(1));
        }
        Err(_) if lines.len() > MAX_REPLY_LINES => {}
        Err(e) => panic!("our own reply does not parse ({e:?}): {encoded:?}"),
    }
    match parse_command(data, 512) {
        Ok((_, consumed))
        | Err(
            CommandError::Unrecognized { consumed }
            | CommandError::Syntax { consumed, .. }
            | CommandError::Http { consumed },
        ) => {
            assert!(consumed <= data.len() && consumed <= 512);
            assert_eq!(data[consumed - 1], b'\n');
            assert!(!data[..consumed - 1].contains(&b'\n'));
        }
        Err(CommandError::Incomplete) => assert!(data.len() < 512 && !data.contains(&b'\n')),
        Err(CommandError::LineTooLong) => assert!(!data[..512].contains(&b'\n')),
    }
}

/// The client-side reply parser: what it reports consumed is whole lines
/// of its input, and the reply has at least one line.
pub fn smtp_response(data: &[u8]) {
    use crate::smtp::{Extensions, parse_response};
    if let Ok((reply, consumed)) = parse_response(data, 512) {
        assert!(consumed <= data.len() && data[consumed - 1] == b'\n');
        assert!(!reply.lines.is_empty() && (200..600).contains(&reply.code));
        let _ = Extensions::from_ehlo(&reply);
        let _ = reply.enhanced_status();
    }
}

/// The IMAP command parser: a command is recognised only once all of it
/// has arrived (every shorter prefix is incomplete), whatever it holds.
/// The framer finds the same end as the parser, and the same frame whether
/// the input comes whole or one byte at a time.
pub fn imap_command(data: &[u8]) {
    use crate::imap::{Frame, Framer, Limits, ParseError, parse_command};
    let limits = Limits {
        max_line: 256,
        max_literal: 256,
        max_depth: 8,
        max_command: 1024,
        max_literals: 8,
    };
    if let Ok((command, consumed)) = parse_command(data, limits) {
        assert!(consumed <= data.len());
        for cut in 0..consumed {
            match parse_command(&data[..cut], limits) {
                Err(ParseError::Incomplete { .. }) => {}
                other => panic!("prefix {cut} of {command:?} gave {other:?}"),
            }
        }
    }
    let whole = Framer::new().scan(data, &limits);
    let mut framer = Framer::new();
    let mut bytewise = Frame::Incomplete { continuation: false };
    for end in 1..=data.len() {
        bytewise = framer.scan(&data[..end], &limits);
        if !matches!(bytewise, Frame::Incomplete { .. }) {
            break;
        }
    }
    match (&whole, &bytewise) {
        (Frame::Incomplete { .. }, Frame::Incomplete { .. }) => {}
        _ => assert_eq!(whole, bytewise),
    }
    if let Ok((_, consumed)) = parse_command(data, limits) {
        assert!(
            matches!(whole, Frame::TooBig { .. }) || whole == Frame::Complete { len: consumed },
            "the parser took {consumed} bytes, the framer found {whole:?}"
        );
    }
    if let Frame::Complete { len } = whole {
        // Within the limits the framer enforced, the parser says yes or bad.
        match parse_command(&data[..len], limits) {
            Ok(_) | Err(ParseError::Bad { .. }) => {}
            other => panic!("a frame of {len} bytes parses as {other:?}"),
        }
    }
    match whole {
        Frame::Complete { len } | Frame::TooBig { consumed: len, .. } | Frame::Skip { consumed: len, .. } => {
            assert!(len > 0 && len <= data.len());
        }
        Frame::Incomplete { .. } => {}
    }
}

/// The POP3 command parser, with the same framing properties.
pub fn pop3_command(data: &[u8]) {
    use crate::pop3::{CommandError, parse_command};
    match parse_command(data, 255) {
        Ok((_, consumed)) | Err(CommandError::Invalid { consumed, .. }) => {
            assert!(consumed <= data.len() && consumed <= 255);
            assert_eq!(data[consumed - 1], b'\n');
        }
        Err(CommandError::Incomplete) => assert!(data.len() < 255 && !data.contains(&b'\n')),
        Err(CommandError::LineTooLong) => assert!(!data[..255].contains(&b'\n')),
    }
}

/// The DATA reader: whatever the chunking, the same outcome and output,
/// never more output than the limit; and dot-stuffing (as POP3 and the SMTP
/// client send it) followed by the reader gives back the original message.
pub fn smtp_data(data: &[u8]) {
    let Some((&chunk, input)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let whole = read_data(input, input.len().max(1), 1000);
    let chunked = read_data(input, chunk, 1000);
    assert_eq!(whole, chunked);
    assert!(whole.0.len() <= 1000);

    // Round trip: any text with CRLF line ends survives stuffing and reading.
    let mut message = Vec::new();
    for &byte in input {
        match byte {
            b'\r' => {}
            b'\n' => message.extend_from_slice(b"\r\n"),
            _ => message.push(byte),
        }
    }
    if !message.is_empty() && !message.ends_with(b"\r\n") {
        message.extend_from_slice(b"\r\n");
    }
    let mut stuffed = Vec::new();
    let mut stuffer = DotStuffer::default();
    stuffer.stuff(&message, &mut stuffed);
    stuffer.finish(&mut stuffed);
    let (out, consumed, outcome) = read_data(&stuffed, chunk, usize::MAX);
    assert_eq!(outcome, Some(DataOutcome::Complete));
    assert_eq!(consumed, stuffed.len());
    assert_eq!(out, message);

    // What the SMTP client sends has no bare CR or LF and ends exactly at
    // its terminator, whatever content it is given.
    let mut sent = Vec::new();
    let mut stuffer = DotStuffer::with_crlf_line_ends();
    stuffer.stuff(input, &mut sent);
    stuffer.finish(&mut sent);
    let (_, consumed, outcome) = read_data(&sent, chunk, usize::MAX);
    assert_eq!(outcome, Some(DataOutcome::Complete));
    assert_eq!(consumed, sent.len());
}

fn read_data(input: &[u8], chunk: usize, max: usize) -> (Vec<u8>, usize, Option<DataOutcome>) {
    let mut reader = DataReader::new(max);
    let mut out = Vec::new();
    let mut position = 0;
    while position < input.len() {
        let end = (position + chunk).min(input.len());
        let (used, outcome) = reader.feed(&input[position..end], &mut out);
        position += used;
        if outcome.is_some() {
            return (out, position, outcome);
        }
    }
    (out, position, None)
}

/// TOP's filter sends a prefix of the message, the same for any chunking.
pub fn pop3_top(data: &[u8]) {
    let Some((&lines, input)) = data.split_first() else {
        return;
    };
    let sent = |chunk: usize| {
        let mut filter = TopFilter::new(u32::from(lines % 8));
        let mut out = Vec::new();
        for part in input.chunks(chunk) {
            let n = filter.take(part);
            out.extend_from_slice(&part[..n]);
            if n < part.len() {
                break;
            }
        }
        out
    };
    let whole = sent(input.len().max(1));
    assert!(input.starts_with(&whole));
    assert_eq!(whole, sent(3));
    assert_eq!(whole, sent(1));
}

/// xtext (RFC 3461 §4, the DSN parameters ENVID and ORCPT): what we write
/// reads back as it was and is only xchars; what anyone writes either
/// fails to decode or has exactly one canonical form, which we write.
pub fn xtext(data: &[u8]) {
    use crate::smtp::{decode_xtext, encode_xtext};
    let text = String::from_utf8_lossy(data);
    let encoded = encode_xtext(&text);
    assert!(encoded.bytes().all(|b| (b'!'..=b'~').contains(&b) && b != b'='));
    assert_eq!(decode_xtext(&encoded).as_deref(), Some(text.as_bytes()));
    if let Some(decoded) = decode_xtext(&text) {
        assert!(decoded.len() <= text.len());
        if let Ok(decoded) = String::from_utf8(decoded) {
            assert_eq!(
                decode_xtext(&encode_xtext(&decoded)).as_deref(),
                Some(decoded.as_bytes())
            );
        }
    }
}

/// Modified UTF-7 mailbox names (RFC 3501 §5.1.3): any name survives
/// encoding and decoding, what we write is printable ASCII, and a name a
/// client writes decodes to at most one name, whose encoding decodes to it
/// again (mailboxes are known by that name, whatever the spelling).
pub fn imap_utf7(data: &[u8]) {
    use crate::imap::utf7;
    let name = String::from_utf8_lossy(data);
    let encoded = utf7::encode(&name);
    assert!(encoded.bytes().all(|b| (b' '..=b'~').contains(&b)), "{encoded:?}");
    assert_eq!(utf7::decode(&encoded).as_deref(), Some(name.as_ref()));
    if let Some(decoded) = utf7::decode(&name) {
        assert_eq!(utf7::decode(&utf7::encode(&decoded)).as_deref(), Some(decoded.as_str()));
    }
}

/// IMAP strings as we write them (quoted, literal, bare astring) read back
/// through the command parser as the same text: the first input byte
/// splits the rest into a user name and a password for LOGIN.
pub fn imap_string(data: &[u8]) {
    use crate::imap::{CommandBody, Limits, astring, parse_command, string};
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let at = (usize::from(split) * text.len() / 255).min(text.len());
    let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let (user, password) = text.split_at(at);
    // A literal's text is CHAR8, never NUL (RFC 9051 §4.3): as a LOGIN
    // argument a NUL is not allowed in any form.
    if user.contains('\0') || password.contains('\0') {
        return;
    }
    let mut command = b"a LOGIN ".to_vec();
    astring(&mut command, user.as_bytes());
    command.push(b' ');
    string(&mut command, password.as_bytes());
    command.extend_from_slice(b"\r\n");
    let limits = Limits {
        max_literal: 1 << 20,
        ..Limits::default()
    };
    match parse_command(&command, limits) {
        Ok((parsed, used)) => {
            assert_eq!(used, command.len());
            assert_eq!(
                parsed.body,
                CommandBody::Login {
                    user: user.to_string(),
                    password: password.to_string()
                },
                "{command:?}"
            );
        }
        Err(e) => panic!("{command:?} does not parse: {e:?}"),
    }
}
