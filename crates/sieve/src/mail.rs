//! The message a script reads, over postamt's own MIME parser (`imf`).

use crate::interpret::{Mail, MailAddress};
use crate::program::BodyTransform;
use imf::filter::{self, BodyParts};

/// A message as delivered: its bytes, parsed on demand.
pub struct ParsedMail<'a> {
    raw: &'a [u8],
}

impl<'a> ParsedMail<'a> {
    pub fn new(raw: &'a [u8]) -> Self {
        ParsedMail { raw }
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
        let parts = match transform {
            BodyTransform::Raw => BodyParts::Raw,
            BodyTransform::Text => BodyParts::Text,
            BodyTransform::Content(types) => BodyParts::Types(types),
        };
        filter::body_texts(self.raw, &parts)
    }
}
