//! Decoding: Content-Transfer-Encodings (RFC 2045 §6), charsets to UTF-8
//! (through mail-parser's tables), and RFC 2047 encoded words in header
//! values for SEARCH.

use std::borrow::Cow;

use mail_parser::decoders::charsets::map::charset_decoder;

use crate::UnknownEncoding;

/// Removes a Content-Transfer-Encoding. No field means 7bit (RFC 2045 §6.1).
pub(crate) fn transfer_decode<'d>(encoding: Option<&[u8]>, data: &'d [u8]) -> Result<Cow<'d, [u8]>, UnknownEncoding> {
    let Some(encoding) = encoding else {
        return Ok(Cow::Borrowed(data));
    };
    let is = |name: &str| encoding.eq_ignore_ascii_case(name.as_bytes());
    if is("7bit") || is("8bit") || is("binary") {
        Ok(Cow::Borrowed(data))
    } else if is("base64") {
        Ok(Cow::Owned(base64(data)))
    } else if is("quoted-printable") {
        Ok(Cow::Owned(quoted_printable(data)))
    } else {
        Err(UnknownEncoding)
    }
}

fn base64_value(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// Base64 (RFC 2045 §6.8). Octets outside the alphabet are ignored, as the
/// RFC asks; `=` ends the data.
pub(crate) fn base64(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &b in data {
        if b == b'=' {
            break;
        }
        let Some(v) = base64_value(b) else { continue };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|v| v as u8)
}

/// The octet that `=XX` at `data[i]` stands for, if it is one.
fn hex_escape(data: &[u8], i: usize) -> Option<u8> {
    if data.get(i) != Some(&b'=') {
        return None;
    }
    let high = hex_value(*data.get(i + 1)?)?;
    let low = hex_value(*data.get(i + 2)?)?;
    Some((high << 4) | low)
}

/// Quoted-printable (RFC 2045 §6.7): `=XX` octets, `=` at the end of a
/// line is a soft line break, blanks at the end of a line are transport
/// padding. Hard line breaks stay as they are. A `=` that starts no valid
/// sequence is kept, as §6.7 (note 2) suggests.
pub(crate) fn quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut lines = data.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let has_break = lines.peek().is_some();
        let (line, crlf) = match line.strip_suffix(b"\r") {
            Some(line) if has_break => (line, true),
            _ => (line, false),
        };
        let trimmed = line.len() - line.iter().rev().take_while(|&&b| b == b' ' || b == b'\t').count();
        let mut line = &line[..trimmed];
        let soft = match line.strip_suffix(b"=") {
            Some(rest) => {
                line = rest;
                true
            }
            None => false,
        };
        let mut i = 0;
        while i < line.len() {
            if let Some(octet) = hex_escape(line, i) {
                out.push(octet);
                i += 3;
            } else {
                out.push(line[i]);
                i += 1;
            }
        }
        if has_break && !soft {
            out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        }
    }
    out
}

/// Converts text in `charset` to UTF-8. US-ASCII, UTF-8 and unknown
/// charsets are read as UTF-8 (bad sequences become U+FFFD): 8-bit octets
/// in a part labelled us-ascii are UTF-8 far more often than anything else.
pub(crate) fn to_utf8(charset: Option<&[u8]>, data: &[u8]) -> String {
    let charset = charset.unwrap_or(b"us-ascii");
    let is = |name: &str| charset.eq_ignore_ascii_case(name.as_bytes());
    if is("us-ascii") || is("ascii") || is("utf-8") || is("utf8") {
        return String::from_utf8_lossy(data).into_owned();
    }
    match charset_decoder(charset) {
        Some(decode) => decode(data),
        None => String::from_utf8_lossy(data).into_owned(),
    }
}

/// Decodes a header value for SEARCH (RFC 2047 §6): every encoded word is
/// decoded on its own and converted from its charset, blanks between two
/// encoded words vanish, and text that is not an encoded word (raw UTF-8
/// per RFC 6532, or a malformed word) stays as it is.
pub(crate) fn rfc2047(value: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    let mut text_start = 0;
    let mut pos = 0;
    while pos + 1 < value.len() {
        if &value[pos..pos + 2] != b"=?" {
            pos += 1;
            continue;
        }
        let Some((decoded, len)) = encoded_word(&value[pos..]) else {
            pos += 2;
            continue;
        };
        let between = &value[text_start..pos];
        if !between.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')) {
            out.push_str(&String::from_utf8_lossy(between));
        }
        out.push_str(&decoded);
        pos += len;
        text_start = pos;
    }
    out.push_str(&String::from_utf8_lossy(&value[text_start..]));
    out
}

/// One `=?charset?encoding?text?=` at the start of `data`: its decoded
/// text and length.
fn encoded_word(data: &[u8]) -> Option<(String, usize)> {
    let rest = data.strip_prefix(b"=?")?;
    let q1 = rest.iter().position(|&b| b == b'?')?;
    let charset = &rest[..q1];
    let after = &rest[q1 + 1..];
    let (&encoding, after) = after.split_first()?;
    let after = after.strip_prefix(b"?")?;
    let q3 = after.iter().position(|&b| b == b'?')?;
    if after.get(q3 + 1) != Some(&b'=') || charset.is_empty() {
        return None;
    }
    let text = &after[..q3];
    let bytes = match encoding {
        b'B' | b'b' => base64(text),
        b'Q' | b'q' => q_decode(text),
        _ => return None,
    };
    // RFC 2231 §5: a language may follow the charset after `*`.
    let charset = charset.split(|&b| b == b'*').next().unwrap_or(charset);
    let len = 2 + q1 + 1 + 2 + q3 + 2;
    Some((to_utf8(Some(charset), &bytes), len))
}

/// The Q encoding (RFC 2047 §4.2): `_` is a space, `=XX` an octet.
fn q_decode(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let Some(octet) = hex_escape(text, i) {
            out.push(octet);
            i += 3;
            continue;
        }
        out.push(if text[i] == b'_' { b' ' } else { text[i] });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_printable_soft_breaks_and_padding() {
        let qp = b"Gr=FC=DFe hyphen=\r\nated=20\r\ntab=09  \r\n=3D =zz\r\nlast";
        assert_eq!(
            quoted_printable(qp),
            b"Gr\xfc\xdfe hyphenated \r\ntab\t\r\n= =zz\r\nlast"
        );
    }

    #[test]
    fn base64_ignores_line_breaks() {
        assert_eq!(base64(b"aGVs\r\nbG8=\r\n"), b"hello");
        assert_eq!(base64(b"aGk"), b"hi");
    }

    #[test]
    fn unknown_transfer_encodings_are_refused() {
        assert_eq!(transfer_decode(Some(b"x-uuencode"), b"x"), Err(UnknownEncoding));
        assert_eq!(transfer_decode(Some(b"BASE64"), b"aGk=").unwrap().as_ref(), b"hi");
        assert_eq!(transfer_decode(None, b"as is").unwrap().as_ref(), b"as is");
    }

    #[test]
    fn charsets() {
        assert_eq!(to_utf8(Some(b"ISO-8859-1"), b"Gr\xfc\xdfe"), "Grüße");
        assert_eq!(to_utf8(None, "Grüße".as_bytes()), "Grüße");
        assert_eq!(to_utf8(Some(b"x-unknown"), b"abc"), "abc");
    }

    #[test]
    fn encoded_words() {
        assert_eq!(
            rfc2047(
                b"=?UTF-8?B?R3LDvMOfZSA=?= =?UTF-8?B?YXVzIA==?= =?ISO-8859-1?Q?K=F6ln?= and =?utf-8?q?caf=C3=A9_x?="
            ),
            "Grüße aus Köln and café x"
        );
        // Each word is decoded alone: a character split across two is lost.
        assert!(!rfc2047(b"=?UTF-8?B?5pc=?= =?UTF-8?B?pQ==?=").contains('日'));
        // Malformed words stay as they are.
        assert_eq!(rfc2047(b"A =?UTF-8?X?bad?= B"), "A =?UTF-8?X?bad?= B");
        assert_eq!(rfc2047(b"=?UTF-8*en?Q?a?="), "a");
        assert_eq!(rfc2047("Zürich".as_bytes()), "Zürich");
    }
}
