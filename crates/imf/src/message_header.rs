//! The fields of a message's top-level header that its stored facts are
//! made of, read in one pass over the header: ENVELOPE (RFC 9051 §7.5.2),
//! the SORT and THREAD keys (RFC 5256), the ids THREADID matches on
//! (RFC 8474 §5.2) and the fields SEARCH keeps.
//!
//! Each of those used to look its fields up on its own, one walk over
//! the header per field; a delivery walked the header some thirty times
//! and parsed the From and To address lists twice. Here every field is
//! unfolded once and every address list parsed once, and the readers
//! take what they need from this. Of repeated fields (which RFC 5322
//! §3.6 forbids) the first counts, as it did for each reader before.

use crate::address::{self, Address};
use crate::header::{self, Field};
use crate::search::STORED_FIELDS;

/// The single-valued fields kept, unfolded.
const TEXT_FIELDS: [&str; 5] = ["Date", "Subject", "In-Reply-To", "Message-ID", "References"];
/// The address fields kept, parsed (RFC 5322 §3.6.2, §3.6.3).
const ADDRESS_FIELDS: [&str; 6] = ["From", "Sender", "Reply-To", "To", "Cc", "Bcc"];

/// One message header, read.
pub(crate) struct MessageHeader<'a> {
    /// The first field of each of [`TEXT_FIELDS`], unfolded, by index.
    texts: [Option<Vec<u8>>; TEXT_FIELDS.len()],
    /// The address list of the first field of each of [`ADDRESS_FIELDS`],
    /// as written (possibly empty), by index.
    addresses: [Option<Vec<Address>>; ADDRESS_FIELDS.len()],
    /// Every field SEARCH keeps (`search::STORED_FIELDS`), in order.
    pub searched: Vec<Field<'a>>,
}

impl<'a> MessageHeader<'a> {
    /// Reads a header block (up to its blank line).
    pub fn parse(header: &'a [u8]) -> MessageHeader<'a> {
        let mut out = MessageHeader {
            texts: Default::default(),
            addresses: Default::default(),
            searched: Vec::new(),
        };
        for field in header::fields(header) {
            if let Some(i) = TEXT_FIELDS.iter().position(|name| field.is(name)) {
                out.texts[i].get_or_insert_with(|| field.value());
            } else if let Some(i) = ADDRESS_FIELDS.iter().position(|name| field.is(name)) {
                out.addresses[i].get_or_insert_with(|| address::parse_list(&field.value()));
            }
            if STORED_FIELDS.iter().any(|name| field.is(name)) {
                out.searched.push(field);
            }
        }
        out
    }

    /// The unfolded value of the first field `name`, one of [`TEXT_FIELDS`].
    pub fn text(&self, name: &str) -> Option<&[u8]> {
        let i = TEXT_FIELDS.iter().position(|n| *n == name);
        debug_assert!(i.is_some(), "{name} is not kept");
        i.and_then(|i| self.texts[i].as_deref())
    }

    /// The address list of the first field `name`, one of
    /// [`ADDRESS_FIELDS`]; None without such a field.
    pub fn addresses(&self, name: &str) -> Option<&[Address]> {
        let i = ADDRESS_FIELDS.iter().position(|n| *n == name);
        debug_assert!(i.is_some(), "{name} is not kept");
        i.and_then(|i| self.addresses[i].as_deref())
    }

    /// The first address of the first field `name` (for a group, its
    /// start marker).
    pub fn first_address(&self, name: &str) -> Option<&Address> {
        self.addresses(name).and_then(<[Address]>::first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fields_count_and_names_ignore_case() {
        let raw = b"subject: one\r\n two\r\nSUBJECT: later\r\nFrom: a@x.test, b@x.test\r\n\
            from: c@x.test\r\nTo:\r\nCc: x@y.test\r\n\r\nSubject: body\r\n";
        let header = MessageHeader::parse(raw);
        assert_eq!(header.text("Subject"), Some(&b"one two"[..]));
        assert_eq!(header.text("Date"), None);
        assert_eq!(header.addresses("From").map(<[Address]>::len), Some(2));
        assert_eq!(
            header.first_address("From").and_then(|a| a.mailbox.as_deref()),
            Some(&b"a"[..])
        );
        // A field that is there but empty is not a missing one.
        assert_eq!(header.addresses("To"), Some(&[][..]));
        assert_eq!(header.addresses("Bcc"), None);
        let searched: Vec<&[u8]> = header.searched.iter().map(|f| f.name).collect();
        assert_eq!(searched, [&b"subject"[..], b"SUBJECT", b"From", b"from", b"To", b"Cc"]);
    }
}
