//! Trusted forwarders (RFC 8617 §7.2, RFC 7489 §6.7 "local policy
//! override"): a mailing list that adds a footer breaks the author's DKIM
//! signature, and its own sending address breaks SPF alignment, so the
//! author's DMARC fails at us although the message was genuine when the
//! list received it. If the list ARC-sealed the message and the operator
//! trusts the list's word, the list's ARC-Authentication-Results (AAR) may
//! say so, and the DMARC policy is not applied.
//!
//! What is trusted is exactly one statement: the newest ARC set's AAR,
//! sealed by a domain the operator listed, saying the message passed at
//! that hop. Only the newest set counts: its ARC-Message-Signature is the
//! only one verified against the message as it reached us (RFC 8617
//! §5.2), so only its sealer vouches for this content. An older set by a
//! trusted sealer speaks about a message that later hops may have replaced
//! entirely; and an untrusted newest sealer could have written anything
//! into its own AAR. Earlier hops' results are not followed either (an AAR
//! saying `arc=pass` is not accepted): our trust does not pass on.
//!
//! Which AAR results are accepted, for the author (RFC5322.From) domain
//! whose DMARC failed here:
//! - `dmarc=pass`, with `header.from` naming that domain or absent. A
//!   `dmarc` result about that domain that is anything else (`fail`,
//!   `temperror`, ...) is the forwarder's own DMARC verdict and decides:
//!   no override, whatever else the AAR says.
//! - Without any DMARC result about that domain: `dkim=pass` whose
//!   `header.d` is aligned with it, or `spf=pass` whose `smtp.mailfrom`
//!   domain is aligned with it, each under the alignment mode (`adkim`,
//!   `aspf`) of the domain's DMARC record (relaxed: the same organisational
//!   domain by the Public Suffix List, RFC 7489 §3.1). These are the two
//!   identifiers DMARC itself accepts (RFC 7489 §4.2).
//! - Nothing else: not `spf=pass smtp.helo`, not `pass` results without
//!   the identifier, not `arc=pass`, not results spelled other than
//!   `pass` (`bestguesspass`, `policy`).
//!
//! The newest ARC-Message-Signature must also cover From (RFC 6376 §5.4
//! requires it; RFC 8617 §4.1.2 inherits it), else the From we check
//! might not be the one the sealer saw.

use mail_auth::dmarc::Alignment;
use mail_auth::{ArcOutput, DkimResult, DmarcOutput};

use crate::results::comment_end;

/// The longest AAR value read; a longer one gives no override.
const MAX_AAR: usize = 16 * 1024;
/// The most results read from one AAR; more give no override.
pub(crate) const MAX_RESULTS: usize = 64;

/// Why a DMARC failure was not held against a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The ARC-Seal `d=` of the newest set, in the list.
    pub sealer: String,
    /// That set's instance (`i=`).
    pub instance: u32,
    /// The AAR result that counted, as `method=pass identifier=value`.
    pub evidence: String,
}

impl Override {
    /// The `reason` of our `dmarc` result (RFC 8601 §2.2 `reasonspec`).
    pub fn reason(&self) -> String {
        format!(
            "arc override: trusted forwarder {} saw {} at i={}",
            self.sealer, self.evidence, self.instance
        )
    }
}

/// The newest ARC set, as far as the decision needs it.
struct NewestSet<'a> {
    sealer: String,
    instance: u32,
    signs_from: bool,
    aar: &'a [u8],
}

/// The override for a message whose DMARC failed, if its ARC chain
/// validated and its newest set is sealed by one of `trusted` (lower case,
/// A-labels) and vouches for the author domain.
pub(crate) fn arc_override(trusted: &[String], arc: &ArcOutput<'_>, dmarc: &DmarcOutput) -> Option<Override> {
    if trusted.is_empty() || *arc.result() != DkimResult::Pass {
        return None;
    }
    // mail-auth passes a chain only with instances 1..=n in order, so the
    // last set is the one with the highest i= (RFC 8617 §4.2.1).
    let newest = arc.sets().last()?;
    let set = NewestSet {
        sealer: domain(&newest.seal.header.d),
        instance: newest.seal.header.i,
        signs_from: newest.signature.header.h.iter().any(|h| h.eq_ignore_ascii_case("from")),
        aar: newest.results.value,
    };
    let (adkim, aspf) = dmarc
        .dmarc_record()
        .map_or((Alignment::Relaxed, Alignment::Relaxed), |r| (r.adkim, r.aspf));
    decide(trusted, &set, &domain(dmarc.domain()), adkim, aspf)
}

fn decide(
    trusted: &[String],
    set: &NewestSet<'_>,
    author: &str,
    adkim: Alignment,
    aspf: Alignment,
) -> Option<Override> {
    if author.is_empty() || !set.signs_from || !trusted.contains(&set.sealer) {
        return None;
    }
    let results = aar_results(set.aar)?;
    let evidence = vouches(&results, author, adkim, aspf)?;
    Some(Override {
        sealer: set.sealer.clone(),
        instance: set.instance,
        evidence,
    })
}

/// The accepted result of `results` for `author`, by the rules above.
fn vouches(results: &[MethodResult], author: &str, adkim: Alignment, aspf: Alignment) -> Option<String> {
    let dmarc: Vec<&MethodResult> = results
        .iter()
        .filter(|r| r.method == "dmarc")
        .filter(|r| r.property("header.from").is_none_or(|from| domain(from) == author))
        .collect();
    if !dmarc.is_empty() {
        return dmarc
            .iter()
            .all(|r| r.result == "pass")
            .then(|| format!("dmarc=pass header.from={author}"));
    }
    results.iter().filter(|r| r.result == "pass").find_map(|r| {
        let (identifier, mode) = match r.method.as_str() {
            "dkim" => ("header.d", adkim),
            "spf" => ("smtp.mailfrom", aspf),
            _ => return None,
        };
        let value = r.property(identifier)?;
        aligned(&domain(value), author, mode).then(|| format!("{}=pass {identifier}={value}", r.method))
    })
}

/// RFC 7489 §3.1: the same domain, or under relaxed alignment the same
/// organisational domain.
fn aligned(domain: &str, author: &str, mode: Alignment) -> bool {
    let organisational = |d: &'_ str| psl::domain_str(d).unwrap_or(d).to_string();
    !domain.is_empty()
        && (domain == author || (mode == Alignment::Relaxed && organisational(domain) == organisational(author)))
}

/// A domain, or an address's domain, in lower case without a final dot.
fn domain(value: &str) -> String {
    let domain = value.rsplit_once('@').map_or(value, |(_, d)| d);
    domain.trim_end_matches('.').to_ascii_lowercase()
}

/// One `method=result` of an Authentication-Results value (RFC 8601 §2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MethodResult {
    /// In lower case, without a version.
    pub method: String,
    /// In lower case.
    pub result: String,
    /// `ptype.property` in lower case, and the value as written (unquoted).
    pub properties: Vec<(String, String)>,
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    /// A word, and whether any of it was a quoted string.
    Word(String, bool),
    Eq,
    Semi,
}

/// The results of an ARC-Authentication-Results value (`i=N;
/// authserv-id; results`, RFC 8617 §4.1.1) or of an Authentication-Results
/// value; `None` when it is too long, has too many results or an
/// unterminated quoted string. A result that cannot be read is left out
/// (it can then only fail to count). Linear in the value's length.
pub(crate) fn aar_results(value: &[u8]) -> Option<Vec<MethodResult>> {
    if value.len() > MAX_AAR {
        return None;
    }
    let tokens = tokens(value)?;
    let mut segments = tokens.split(|t| *t == Token::Semi).peekable();
    // The instance tag of an AAR, then the authserv-id (and version).
    if segments
        .peek()
        .is_some_and(|s| matches!(s.first(), Some(Token::Word(w, _)) if w.eq_ignore_ascii_case("i")))
    {
        segments.next();
    }
    segments.next().filter(|id| !id.is_empty())?;
    let results: Vec<MethodResult> = segments.filter_map(method_result).collect();
    (results.len() <= MAX_RESULTS).then_some(results)
}

/// One resinfo: `method[/version]=result [reason=value] *(ptype.property=value)`.
fn method_result(tokens: &[Token]) -> Option<MethodResult> {
    // Both are Keywords (RFC 8601 §2.2), never quoted strings: a value
    // from outside cannot pose as a method or a result.
    let [
        Token::Word(method, false),
        Token::Eq,
        Token::Word(result, false),
        rest @ ..,
    ] = tokens
    else {
        return None;
    };
    // The method's name is what precedes a `/version` (RFC 8601 §2.2);
    // a bare `/1` names no method.
    let method = method.split('/').next().unwrap_or_default().to_ascii_lowercase();
    if !is_keyword(&method) || !is_keyword(result) {
        return None;
    }
    let mut properties = Vec::new();
    let mut at = 0;
    while at < rest.len() {
        if let [Token::Word(name, _), Token::Eq, Token::Word(value, _), ..] = &rest[at..] {
            if name.contains('.') {
                properties.push((name.to_ascii_lowercase(), value.clone()));
            }
            at += 3;
        } else {
            // A stray token, e.g. the `=` padding of an unquoted header.b.
            at += 1;
        }
    }
    Some(MethodResult {
        method,
        result: result.to_ascii_lowercase(),
        properties,
    })
}

/// A method (with its version) or result as RFC 8601 §2.2 spells it.
pub(crate) fn is_keyword(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_/.".contains(&b))
}

/// Words (atoms, quoted strings, and the two glued when nothing separates
/// them, as in `"a b"@example.org`), `=` and `;`; comments and white space
/// dropped (RFC 5322 §3.2.2).
fn tokens(value: &[u8]) -> Option<Vec<Token>> {
    let mut tokens = Vec::new();
    let mut glue = false;
    let mut at = 0;
    while at < value.len() {
        let (word, end) = match value[at] {
            b' ' | b'\t' | b'\r' | b'\n' => (None, at + 1),
            b'(' => (None, comment_end(value, at)),
            b';' | b'=' => {
                tokens.push(if value[at] == b';' { Token::Semi } else { Token::Eq });
                (None, at + 1)
            }
            b'"' => {
                let (text, end) = quoted(value, at)?;
                (Some((text, true)), end)
            }
            _ => {
                let end = value[at..]
                    .iter()
                    .position(|b| b" \t\r\n(;=\"".contains(b))
                    .map_or(value.len(), |n| at + n)
                    // Every step consumes a byte, whatever the arms above
                    // catch: the loop is linear.
                    .max(at + 1);
                (
                    Some((String::from_utf8_lossy(&value[at..end]).into_owned(), false)),
                    end,
                )
            }
        };
        let produced = word.is_some();
        match (word, tokens.last_mut()) {
            (Some((word, quoted)), Some(Token::Word(last, was_quoted))) if glue => {
                last.push_str(&word);
                *was_quoted |= quoted;
            }
            (Some((word, quoted)), _) => tokens.push(Token::Word(word, quoted)),
            (None, _) => {}
        }
        glue = produced;
        at = end;
    }
    Some(tokens)
}

/// The text of the quoted string starting at `start`, and where it ends;
/// `None` if it never ends.
fn quoted(value: &[u8], start: usize) -> Option<(String, usize)> {
    let mut text = Vec::new();
    let mut escaped = false;
    for (i, &b) in value.iter().enumerate().skip(start + 1) {
        match b {
            _ if escaped => {
                text.push(b);
                escaped = false;
            }
            b'\\' => escaped = true,
            b'"' => return Some((String::from_utf8_lossy(&text).into_owned(), i + 1)),
            _ => text.push(b),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results(value: &str) -> Vec<MethodResult> {
        aar_results(value.as_bytes()).expect("readable")
    }

    fn vouch(value: &str, adkim: Alignment) -> Option<String> {
        vouches(&results(value), "bank.test", adkim, Alignment::Relaxed)
    }

    #[test]
    fn reads_an_aar_as_gmail_writes_it() {
        let read = results(
            "i=1; mx.google.com;\r\n       dkim=pass header.i=@bank.test header.s=sel header.b=ab/c+d=;\r\n       \
             spf=pass (google.com: domain of x@bank.test designates 192.0.2.1 as permitted sender) smtp.mailfrom=x@bank.test;\r\n       \
             dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=bank.test",
        );
        assert_eq!(read.len(), 3, "{read:?}");
        assert_eq!((read[0].method.as_str(), read[0].result.as_str()), ("dkim", "pass"));
        assert_eq!(read[0].property("header.i"), Some("@bank.test"));
        assert_eq!(read[0].property("header.b"), Some("ab/c+d"));
        assert_eq!(read[0].property("header.s"), Some("sel"));
        assert_eq!(read[1].property("smtp.mailfrom"), Some("x@bank.test"));
        assert_eq!(read[2].property("header.from"), Some("bank.test"));
    }

    #[test]
    fn reads_comments_quotes_versions_and_folded_white_space() {
        let read = results(
            "i=2; lists.test 1; DKIM/1 = Pass (good (nested) sig) reason=\"ok; really\" Header.D=\"bank.test\";\r\n\t\
             spf=pass smtp.mailfrom=\"a b\"@bank.test; garbage; =; x=y",
        );
        assert_eq!(read.len(), 3, "{read:?}");
        assert_eq!((read[0].method.as_str(), read[0].result.as_str()), ("dkim", "pass"));
        assert_eq!(
            read[0].properties,
            vec![("header.d".to_string(), "bank.test".to_string())]
        );
        assert_eq!(read[1].property("smtp.mailfrom"), Some("a b@bank.test"));
        assert_eq!(read[2].method, "x", "{read:?}");
        // An Authentication-Results value (no instance tag) reads the same.
        assert_eq!(
            results("lists.test; dmarc=fail header.from=bank.test")[0].result,
            "fail"
        );
        assert!(results("lists.test; none").is_empty());
        // A quoted string is not a method or a result.
        assert!(results("i=1; lists.test; \"dmarc\"=pass; dmarc=\"pass\"").is_empty());
    }

    #[test]
    fn bad_values_give_nothing_within_bounds() {
        assert_eq!(aar_results(b"i=1; lists.test; dkim=pass header.d=\"bank.test"), None);
        let many = format!(
            "i=1; lists.test{}",
            "; dkim=pass header.d=bank.test".repeat(MAX_RESULTS + 1)
        );
        assert_eq!(aar_results(many.as_bytes()), None);
        let long = format!(
            "i=1; lists.test; dkim=pass header.d=bank.test ({})",
            "x".repeat(MAX_AAR)
        );
        assert_eq!(aar_results(long.as_bytes()), None);
        // A comment that never closes swallows the rest.
        assert_eq!(results("i=1; lists.test; dmarc=pass (open; dkim=pass").len(), 1);
        assert_eq!(aar_results(b""), None);
        let deep = format!("i=1; lists.test; dmarc=pass {}", "(".repeat(10_000));
        assert_eq!(results(&deep).len(), 1);
        // A version with no method before it names nothing (a fuzz find).
        let versioned = results("i=1; lists.test; /1=pass; dmarc/1=pass");
        assert_eq!(
            versioned.iter().map(|r| r.method.as_str()).collect::<Vec<_>>(),
            ["dmarc"]
        );
    }

    #[test]
    fn the_forwarders_dmarc_result_decides_when_there_is_one() {
        let relaxed = Alignment::Relaxed;
        assert_eq!(
            vouch("i=1; l.test; dmarc=pass header.from=bank.test", relaxed).as_deref(),
            Some("dmarc=pass header.from=bank.test")
        );
        assert!(vouch("i=1; l.test; dmarc=pass", relaxed).is_some());
        // Its own DMARC failed: an aligned DKIM pass beside it does not count.
        assert_eq!(
            vouch(
                "i=1; l.test; dkim=pass header.d=bank.test; dmarc=fail header.from=bank.test",
                relaxed
            ),
            None
        );
        assert_eq!(
            vouch("i=1; l.test; dmarc=temperror header.from=Bank.Test.", relaxed),
            None
        );
        // A DMARC result about another domain says nothing about ours.
        assert_eq!(vouch("i=1; l.test; dmarc=pass header.from=other.test", relaxed), None);
        assert_eq!(
            vouch(
                "i=1; l.test; dmarc=fail header.from=other.test; dkim=pass header.d=bank.test",
                relaxed
            )
            .as_deref(),
            Some("dkim=pass header.d=bank.test")
        );
    }

    #[test]
    fn dkim_and_spf_count_only_aligned() {
        let (relaxed, strict) = (Alignment::Relaxed, Alignment::Strict);
        assert!(vouch("i=1; l.test; dkim=pass header.d=mail.bank.test", relaxed).is_some());
        assert_eq!(vouch("i=1; l.test; dkim=pass header.d=mail.bank.test", strict), None);
        assert!(vouch("i=1; l.test; dkim=pass header.d=BANK.test", strict).is_some());
        assert_eq!(vouch("i=1; l.test; dkim=pass header.d=evil.test", relaxed), None);
        assert_eq!(vouch("i=1; l.test; dkim=fail header.d=bank.test", relaxed), None);
        assert_eq!(vouch("i=1; l.test; dkim=pass header.s=sel", relaxed), None);
        assert_eq!(
            vouch("i=1; l.test; dkim=bestguesspass header.d=bank.test", relaxed),
            None
        );
        assert_eq!(
            vouch("i=1; l.test; spf=pass smtp.mailfrom=b@bounces.bank.test", relaxed).as_deref(),
            Some("spf=pass smtp.mailfrom=b@bounces.bank.test")
        );
        assert_eq!(vouch("i=1; l.test; spf=pass smtp.helo=bank.test", relaxed), None);
        assert_eq!(
            vouch("i=1; l.test; arc=pass; iprev=pass policy.iprev=192.0.2.1", relaxed),
            None
        );
        // The Public Suffix List, not the last two labels, makes the
        // organisational domain.
        let read = results("i=1; l.test; dkim=pass header.d=other.co.uk");
        assert_eq!(vouches(&read, "bank.co.uk", relaxed, relaxed), None);
        let read = results("i=1; l.test; dkim=pass header.d=mail.bank.co.uk");
        assert!(vouches(&read, "bank.co.uk", relaxed, relaxed).is_some());
    }

    #[test]
    fn only_a_listed_sealer_whose_signature_covers_from_counts() {
        let trusted = vec!["lists.test".to_string()];
        let aar = b"i=2; lists.test; dmarc=pass header.from=bank.test";
        let set = |sealer: &str, signs_from| NewestSet {
            sealer: sealer.into(),
            instance: 2,
            signs_from,
            aar,
        };
        let relaxed = Alignment::Relaxed;
        let decided = decide(&trusted, &set("lists.test", true), "bank.test", relaxed, relaxed).unwrap();
        assert_eq!(
            decided.reason(),
            "arc override: trusted forwarder lists.test saw dmarc=pass header.from=bank.test at i=2"
        );
        assert_eq!(
            decide(&trusted, &set("other.test", true), "bank.test", relaxed, relaxed),
            None
        );
        assert_eq!(
            decide(&trusted, &set("sub.lists.test", true), "bank.test", relaxed, relaxed),
            None
        );
        assert_eq!(
            decide(&trusted, &set("lists.test", false), "bank.test", relaxed, relaxed),
            None
        );
        assert_eq!(
            decide(&[], &set("lists.test", true), "bank.test", relaxed, relaxed),
            None
        );
    }
}
