//! The message a script reads, over postamt's own MIME parser (`imf`).

use crate::interpret::{Mail, MailAddress};
use crate::program::BodyTransform;
use imf::filter::{self, BodyParts};

/// How much of each body part the body test reads (RFC 5173 leaves it
/// to the implementation): the text a filter looks for is near the top,
/// and the memory of a run must not grow with the message.
pub const MAX_BODY_PART: usize = 1024 * 1024;

/// A message as delivered: its bytes, parsed on demand.
pub struct ParsedMail<'a> {
    raw: &'a [u8],
    /// The body texts already decoded, by transform: a script tests the
    /// body often with several rules, and decoding is the costly part.
    bodies: std::cell::RefCell<Vec<(BodyTransform, Vec<String>)>>,
}

impl<'a> ParsedMail<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        ParsedMail {
            raw,
            bodies: std::cell::RefCell::new(Vec::new()),
        }
    }
}

impl Mail for ParsedMail<'_> {
    fn fields(&self) -> Vec<(String, String)> {
        filter::header_fields(self.raw)
    }

    fn size(&self) -> u64 {
        self.raw.len() as u64
    }

    fn decode(&self, value: &str) -> String {
        filter::decode_text(value)
    }

    fn addresses(&self, value: &str) -> Vec<MailAddress> {
        filter::mailboxes(value)
            .into_iter()
            .map(|(local, domain)| MailAddress { local, domain })
            .collect()
    }

    fn date(&self, value: &str) -> Option<(i64, i32)> {
        filter::date_time(value)
    }

    fn body(&self, transform: &BodyTransform) -> Vec<String> {
        if let Some((_, texts)) = self.bodies.borrow().iter().find(|(t, _)| t == transform) {
            return texts.clone();
        }
        let parts = match transform {
            BodyTransform::Raw => BodyParts::Raw,
            BodyTransform::Text => BodyParts::Text,
            BodyTransform::Content(types) => BodyParts::Types(types),
        };
        let texts = filter::body_texts(self.raw, &parts, MAX_BODY_PART);
        self.bodies.borrow_mut().push((transform.clone(), texts.clone()));
        texts
    }
}
