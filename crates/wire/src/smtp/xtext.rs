//! xtext, RFC 3461 §4: how DSN parameters (ENVID, ORCPT) carry arbitrary
//! characters; `+XX` encodes one octet in hex.

/// Encodes text as xtext: '+', '=' and anything outside printable ASCII
/// become `+XX`.
pub fn encode_xtext(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (b'!'..=b'~').contains(&byte) && byte != b'+' && byte != b'=' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("+{byte:02X}"));
        }
    }
    out
}

/// Decodes xtext, or `None` if it is malformed.
pub fn decode_xtext(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b)) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 3;
            }
            b'!'..=b'~' if bytes[i] != b'=' => {
                out.push(bytes[i]);
                i += 1;
            }
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_round_trips() {
        assert_eq!(encode_xtext("a+b=c d"), "a+2Bb+3Dc+20d");
        let text = "rfc822;jürgen+x@bücher.test";
        assert_eq!(decode_xtext(&encode_xtext(text)).unwrap(), text.as_bytes());
    }

    #[test]
    fn decodes_and_validates() {
        assert_eq!(decode_xtext("rfc822;a+2Bb@c.test").unwrap(), b"rfc822;a+b@c.test");
        assert_eq!(decode_xtext("QQ123").unwrap(), b"QQ123");
        for bad in ["a=b", "a+2", "a+2b", "a b", "+G0", "ü"] {
            assert!(decode_xtext(bad).is_none(), "{bad}");
        }
    }
}
