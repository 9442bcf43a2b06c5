//! The base subject of RFC 5256 §2.1, which SORT SUBJECT orders by and
//! both THREAD algorithms group by: the subject with its encoded words
//! decoded, blanks normalised, and reply/forward markers (`Re:`, `Fwd:`,
//! `[list]` blobs, `(fwd)` trailers, `[fwd: ...]` wrapping) removed.
//!
//! The grammar (RFC 5256 §5) is matched case-insensitively, as ABNF
//! strings are. Every marker is ASCII, so byte offsets found here always
//! fall on character boundaries of the decoded UTF-8.

use crate::decode;

/// The result of base-subject extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseSubject {
    /// The base subject, case as written.
    pub text: String,
    /// Whether extraction removed a `subj-refwd`, a `(fwd)` trailer or a
    /// `[fwd: ...]` wrapper: what THREAD=REFERENCES step 5 calls a reply
    /// or forward (RFC 5256 §3).
    pub reply_or_forward: bool,
}

/// RFC 5256 §2.1 on a raw Subject field value (unfolded or not).
pub fn base_subject(value: &[u8]) -> BaseSubject {
    let mut text = normalise(&decode::rfc2047(value));
    let mut reply_or_forward = false;
    loop {
        // (2) subj-trailer = "(fwd)" / WSP, repeatedly.
        loop {
            if text.ends_with(' ') {
                text.pop();
            } else if ends_with_ignore_case(&text, "(fwd)") {
                text.truncate(text.len() - "(fwd)".len());
                reply_or_forward = true;
            } else {
                break;
            }
        }
        // (3), (4), repeated as (5) says, until neither removes anything.
        loop {
            let leader = leader_len(&text);
            if leader.is_some_and(|(_, refwd)| refwd) {
                reply_or_forward = true;
            }
            let mut removed = leader.map_or(0, |(len, _)| len);
            if removed == 0 {
                // (4) a leading blob, unless it is all that is left.
                if let Some(blob) = blob_len(text.as_bytes(), 0)
                    && blob < text.len()
                {
                    removed = blob;
                }
            }
            if removed == 0 {
                break;
            }
            text.drain(..removed);
        }
        // (6) `[fwd:` ... `]`: unwrap and start over from (2).
        if starts_with_ignore_case(&text, "[fwd:") && text.ends_with(']') {
            text = text["[fwd:".len()..text.len() - 1].to_string();
            reply_or_forward = true;
            continue;
        }
        return BaseSubject { text, reply_or_forward };
    }
}

/// (1) Tabs and line breaks to spaces, runs of spaces to one.
fn normalise(decoded: &str) -> String {
    let mut out = String::with_capacity(decoded.len());
    for c in decoded.chars() {
        let c = if matches!(c, '\t' | '\r' | '\n') { ' ' } else { c };
        if c == ' ' && out.ends_with(' ') {
            continue;
        }
        out.push(c);
    }
    out
}

/// The length of the longest prefix matching `*subj-leader`, where
/// `subj-leader = (*subj-blob subj-refwd) / WSP`, and whether a
/// `subj-refwd` was part of it; None when nothing matches.
fn leader_len(text: &str) -> Option<(usize, bool)> {
    let bytes = text.as_bytes();
    let mut pos = 0;
    let mut refwd = false;
    loop {
        if bytes.get(pos) == Some(&b' ') {
            pos += 1;
            continue;
        }
        let mut at = pos;
        while let Some(len) = blob_len(bytes, at) {
            at += len;
        }
        match refwd_len(bytes, at) {
            Some(len) => {
                pos = at + len;
                refwd = true;
            }
            None => break,
        }
    }
    (pos > 0).then_some((pos, refwd))
}

/// `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"` at `at`.
fn refwd_len(bytes: &[u8], at: usize) -> Option<usize> {
    ["re", "fwd", "fw"].iter().find_map(|word| {
        let end = at + word.len();
        if !bytes.get(at..end)?.eq_ignore_ascii_case(word.as_bytes()) {
            return None;
        }
        let mut pos = end + blanks(bytes, end);
        if let Some(blob) = blob_len(bytes, pos) {
            pos += blob;
        }
        (bytes.get(pos) == Some(&b':')).then_some(pos + 1 - at)
    })
}

/// `subj-blob = "[" *BLOBCHAR "]" *WSP` at `at`: BLOBCHAR is any octet
/// but the brackets.
fn blob_len(bytes: &[u8], at: usize) -> Option<usize> {
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let close = bytes[at + 1..].iter().position(|&b| b == b'[' || b == b']')?;
    let end = at + 1 + close;
    if bytes[end] != b']' {
        return None;
    }
    Some(end + 1 + blanks(bytes, end + 1) - at)
}

fn blanks(bytes: &[u8], at: usize) -> usize {
    bytes
        .get(at..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count()
}

fn starts_with_ignore_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() >= suffix.len() && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(subject: &str) -> String {
        base_subject(subject.as_bytes()).text
    }

    fn is_reply(subject: &str) -> bool {
        base_subject(subject.as_bytes()).reply_or_forward
    }

    #[test]
    fn step_1_decodes_and_normalises_blanks() {
        assert_eq!(base("=?UTF-8?Q?Gr=C3=BC=C3=9Fe?=  aus\t Köln"), "Grüße aus Köln");
        assert_eq!(base("Re: =?ISO-8859-1?Q?K=F6ln?="), "Köln");
        // An encoded `Re:` is a reply marker once decoded.
        assert_eq!(base("=?UTF-8?B?UmU6IGhp?="), "hi");
        assert_eq!(base("folded\r\n line"), "folded line");
        assert!(!is_reply("=?UTF-8?Q?plain?="));
    }

    #[test]
    fn step_2_trailers() {
        assert_eq!(base("hello (fwd)"), "hello");
        assert_eq!(base("hello (FWD) (fwd)  "), "hello");
        assert_eq!(base("hello(fwd)"), "hello");
        assert!(is_reply("hello (fwd)"));
        assert!(!is_reply("hello   "));
        // Only at the end.
        assert_eq!(base("(fwd) hello"), "(fwd) hello");
    }

    #[test]
    fn step_3_leaders() {
        assert_eq!(base("Re: hello"), "hello");
        assert_eq!(base("RE: re: Fw: FWD: hello"), "hello");
        assert_eq!(base("Re:hello"), "hello");
        assert_eq!(base("Re : hello"), "hello");
        assert_eq!(base("Re[2]: hello"), "hello");
        assert_eq!(base("Re [2] : hello"), "hello");
        assert_eq!(base("[list] Re: hello"), "hello");
        assert_eq!(base("[a][b] re: [c] fwd: hello"), "hello");
        assert_eq!(base("   hello"), "hello");
        assert!(is_reply("Re: hello"));
        assert!(is_reply("[list] Fw: hello"));
        // Not markers: a word that starts like one, a colon-less marker.
        assert_eq!(base("Reply: hello"), "Reply: hello");
        assert_eq!(base("Re hello"), "Re hello");
        assert_eq!(base("Fwded: hello"), "Fwded: hello");
        assert!(!is_reply("Reply: hello"));
    }

    #[test]
    fn step_4_leading_blobs_unless_nothing_would_be_left() {
        assert_eq!(base("[list] hello"), "hello");
        assert_eq!(base("[a] [b]hello"), "hello");
        assert!(!is_reply("[list] hello"));
        // The last blob is the subject when nothing else is.
        assert_eq!(base("[list]"), "[list]");
        assert_eq!(base("[a] [b]"), "[b]");
        assert_eq!(base("[a] Re: [b]"), "[b]");
        // An unclosed bracket is text.
        assert_eq!(base("[list hello"), "[list hello");
        assert_eq!(base("[a [b] hello"), "[a [b] hello");
    }

    #[test]
    fn step_5_repeats_leaders_and_blobs() {
        assert_eq!(base("[list] hello: Re: x"), "hello: Re: x");
        assert_eq!(base("Re: [list] Re: [other] Fwd: hello"), "hello");
    }

    #[test]
    fn step_6_fwd_wrapping_and_restart() {
        assert_eq!(base("[fwd: hello]"), "hello");
        assert_eq!(base("[Fwd: Re: hello (fwd)]"), "hello");
        assert_eq!(base("Re: [FWD: [fwd: hello] ] (fwd)"), "hello");
        assert!(is_reply("[fwd: hello]"));
        // Unwrapped only when both ends are there.
        assert_eq!(base("[fwd: hello"), "[fwd: hello");
        // `[fwd: x]` alone is a blob too, but step 4 keeps a lone blob, so
        // step 6 unwraps it.
        assert_eq!(base("[fwd:]"), "");
    }

    #[test]
    fn the_rfc_examples_and_empty_subjects() {
        // RFC 5256 §2.1's grammar applied to the forms its §3 examples
        // thread together.
        for subject in [
            "Re: Re: re: aaa",
            "Re: [fwd: aaa]",
            "aaa (fwd)",
            "[list] Re: aaa",
            "FWD: aaa",
            "fw: aaa",
            "aaa",
        ] {
            assert_eq!(base(subject), "aaa", "{subject}");
        }
        assert_eq!(base(""), "");
        assert_eq!(base("   "), "");
        assert_eq!(base("Re:"), "");
        assert_eq!(base("Re: (fwd)"), "");
    }
}
