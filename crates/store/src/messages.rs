//! Messages: what is stored with each (its parsed facts), the one listing
//! of a mailbox that IMAP and POP3 share, and the reads of stored facts
//! for FETCH and SEARCH.

use crate::flags::Flags;
use crate::sql::OptionalExtension;
use crate::{MailboxId, Result, Store};

/// The facts computed from a message's content when it is stored, in IMAP
/// syntax (see the `imf` crate).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageFacts {
    pub envelope: String,
    pub body_structure: String,
    pub body: String,
    /// The content's header section, with the blank line that ends it;
    /// None when not worked out (the blob is then read instead).
    pub header: Option<Vec<u8>>,
    /// The fields SEARCH matches most, in the imf crate's format; None
    /// when not worked out (SEARCH then reads the header).
    pub search_fields: Option<String>,
    /// The SORT and THREAD keys (`imf::SortKeys::to_stored`); None when
    /// not worked out (SORT then reads the header).
    pub sort_keys: Option<String>,
    /// PREVIEW (RFC 8970), empty when the message has no text to show.
    pub preview: String,
    /// Its Message-ID and those of the messages it answers, for THREADID
    /// (see `object_ids`).
    pub message_id: Option<String>,
    pub parents: Vec<String>,
}

impl MessageFacts {
    /// Works out what is stored with a message from its content, once,
    /// before it is stored: the one mapping from `imf`'s facts to the
    /// store's, for local delivery and for IMAP APPEND alike.
    pub fn of(content: &[u8]) -> MessageFacts {
        let facts = imf::facts(content);
        MessageFacts {
            envelope: facts.envelope,
            body_structure: facts.body_structure,
            body: facts.body,
            header: content.get(..facts.header_len).map(<[u8]>::to_vec),
            search_fields: facts.search_fields,
            sort_keys: Some(facts.sort_keys.to_stored()),
            preview: facts.preview,
            message_id: facts.message_id,
            parents: facts.parents,
        }
    }
}

/// One message as a mailbox view needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageMeta {
    pub uid: i64,
    pub modseq: i64,
    pub flags: Flags,
    pub size: i64,
    pub internal_date: i64,
}

impl MessageMeta {
    /// A message known by its UID alone: what a command answers of one
    /// whose row it need not (or can no longer) read.
    pub fn bare(uid: i64) -> MessageMeta {
        MessageMeta {
            uid,
            modseq: 0,
            flags: Flags::default(),
            size: 0,
            internal_date: 0,
        }
    }
}

/// Everything FETCH may need of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageContent {
    pub uid: i64,
    pub blob_hash: String,
    pub trace_headers: Vec<u8>,
    pub size: i64,
    pub internal_date: i64,
    pub envelope: Option<String>,
    pub body_structure: Option<String>,
    pub body: Option<String>,
    /// The blob's header section, when stored (see [`MessageFacts`]).
    pub header: Option<Vec<u8>>,
    /// OBJECTID (RFC 8474): EMAILID and THREADID; None only for rows a
    /// migration has not reached.
    pub email_id: Option<String>,
    pub thread_id: Option<String>,
    /// SAVEDATE (RFC 8514), Unix seconds.
    pub save_date: Option<i64>,
    /// PREVIEW (RFC 8970); None for messages stored before it was kept.
    pub preview: Option<String>,
}

impl MessageContent {
    /// Where the message's bytes are, for [`Store::open_message`].
    pub fn stored(&self) -> crate::StoredMessage<'_> {
        crate::StoredMessage {
            trace_headers: &self.trace_headers,
            blob_hash: &self.blob_hash,
            header: self.header.as_deref(),
        }
    }
}

/// Where a message's bytes are, without its parsed facts
/// ([`Store::locate_message`]).
#[derive(Debug, Clone)]
pub struct MessageLocation {
    pub trace_headers: Vec<u8>,
    pub blob_hash: String,
}

impl MessageLocation {
    /// The message to open with [`Store::open_message`].
    pub fn stored(&self) -> crate::StoredMessage<'_> {
        crate::StoredMessage {
            trace_headers: &self.trace_headers,
            blob_hash: &self.blob_hash,
            header: None,
        }
    }
}

/// The columns of [`MessageContent`], in the order its fields are declared.
pub(crate) const CONTENT_COLUMNS: &str = "uid, blob_hash, trace_headers, size, internal_date, envelope, body_structure,
     body, header, email_id, thread_id, save_date, preview";

/// How many columns [`CONTENT_COLUMNS`] are.
pub(crate) const CONTENT_WIDTH: usize = 13;

impl MessageContent {
    /// Reads the [`CONTENT_COLUMNS`] that begin a row.
    pub(crate) fn from_row(row: &crate::sql::Row) -> crate::Result<MessageContent> {
        Ok(MessageContent {
            uid: row.get(0)?,
            blob_hash: row.get(1)?,
            trace_headers: row.get(2)?,
            size: row.get(3)?,
            internal_date: row.get(4)?,
            envelope: row.get(5)?,
            body_structure: row.get(6)?,
            body: row.get(7)?,
            header: row.get(8)?,
            email_id: row.get(9)?,
            thread_id: row.get(10)?,
            save_date: row.get(11)?,
            preview: row.get(12)?,
        })
    }
}

/// The stored search fields of a message (see [`MessageFacts`]), None
/// for messages stored before they were kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchContent {
    pub uid: i64,
    pub search_fields: Option<String>,
}

/// One message's row for SORT and THREAD: its stored keys
/// (`imf::SortKeys::to_stored`, None for a message stored without them or
/// when not asked for), borrowed from the row as it is read, with the
/// size, internal date and sent date that SIZE, ARRIVAL and DATE sort by
/// (RFC 5256 §3; `sent` is None for a message stored without keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKeyRow<'a> {
    pub uid: i64,
    pub keys: Option<&'a str>,
    pub size: i64,
    pub internal_date: i64,
    pub sent: Option<i64>,
}

impl Store {
    /// Every message of a mailbox with its flags, in UID order: the one
    /// listing, for IMAP's mailbox views and POP3's maildrop alike.
    pub async fn message_list(&self, mailbox: MailboxId) -> Result<Vec<MessageMeta>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!("{META_SELECT} ORDER BY m.uid"))?;
                let rows = select.query_map([mailbox], meta_from_row)?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// The stored content and facts of the messages with these UIDs, in
    /// one query; expunged ones are missing from the answer. Callers pass
    /// a bounded number at a time, since each carries its header.
    pub async fn message_contents(&self, mailbox: MailboxId, uids: &[i64]) -> Result<Vec<MessageContent>> {
        let uids = json_list(uids);
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(&format!(
                    "SELECT {CONTENT_COLUMNS} FROM messages
                     WHERE mailbox_id = $1 AND uid IN (SELECT value FROM json_each($2)) ORDER BY uid"
                ))?;
                let rows = select.query_map((mailbox, uids), MessageContent::from_row)?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }

    /// Where one message's bytes are (its trace fields and content hash),
    /// by key: a point read for POP3's RETR and TOP, which need nothing of
    /// the wide row's parsed facts. None once the message is expunged.
    pub fn locate_message(&self, mailbox: MailboxId, uid: i64) -> Result<Option<MessageLocation>> {
        self.point_reads.read(|connection| {
            connection
                .prepare_cached("SELECT trace_headers, blob_hash FROM messages WHERE mailbox_id = $1 AND uid = $2")?
                .query_row((mailbox, uid), |row| {
                    Ok(MessageLocation {
                        trace_headers: row.get(0)?,
                        blob_hash: row.get(1)?,
                    })
                })
                .optional()
        })
    }

    /// The stored search fields of the messages with UIDs from `first` to
    /// `last`, in one range scan of the (mailbox_id, uid) index that does
    /// not touch the wide message rows.
    pub async fn search_contents(&self, mailbox: MailboxId, first: i64, last: i64) -> Result<Vec<SearchContent>> {
        self.point_reads
            .scan(move |connection| {
                let mut select = connection.prepare_cached(
                    "SELECT m.uid, s.fields FROM messages m LEFT JOIN message_search s ON s.message_id = m.id
                     WHERE m.mailbox_id = $1 AND m.uid BETWEEN $2 AND $3
                     ORDER BY m.uid",
                )?;
                let rows = select.query_map([mailbox, first, last], |row| {
                    Ok(SearchContent {
                        uid: row.get(0)?,
                        search_fields: row.get(1)?,
                    })
                })?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }
}

impl Store {
    /// The sort keys of a mailbox's messages with UIDs from `first` to
    /// `last`, in UID order, each row handed to `take` as it is read (on
    /// the blocking pool), so that a SORT of a large mailbox keeps only
    /// what its criteria compare. Without `keys`, one range scan of the
    /// narrow index (migration 30 put the sent date there); with them,
    /// joined to the key rows.
    pub async fn read_sort_keys<T: Send + 'static>(
        &self,
        mailbox: MailboxId,
        (first, last): (i64, i64),
        keys: bool,
        mut take: impl FnMut(SortKeyRow<'_>) -> T + Send + 'static,
    ) -> Result<Vec<T>> {
        self.point_reads
            .scan(move |connection| {
                let sql = match keys {
                    true => {
                        "SELECT m.uid, k.keys, m.size, m.internal_date, m.sent
                         FROM messages m LEFT JOIN message_sort_keys k ON k.message_id = m.id
                         WHERE m.mailbox_id = $1 AND m.uid BETWEEN $2 AND $3 ORDER BY m.uid"
                    }
                    false => {
                        "SELECT uid, CAST(NULL AS TEXT), size, internal_date, sent
                         FROM messages WHERE mailbox_id = $1 AND uid BETWEEN $2 AND $3 ORDER BY uid"
                    }
                };
                let mut select = connection.prepare_cached(sql)?;
                let rows = select.query_map([mailbox, first, last], |row| {
                    Ok(take(SortKeyRow {
                        uid: row.get(0)?,
                        keys: row.text(1)?,
                        size: row.get(2)?,
                        internal_date: row.get(3)?,
                        sent: row.get(4)?,
                    }))
                })?;
                rows.collect::<crate::Result<Vec<_>>>()
            })
            .await
    }
}

/// The columns of [`MessageMeta`], for the messages of mailbox `$1`.
pub(crate) const META_SELECT: &str = "SELECT m.uid, m.modseq, m.flags, m.size, m.internal_date,
            (SELECT string_agg(keyword, ' ') FROM message_keywords k WHERE k.message_id = m.id)
     FROM messages m WHERE m.mailbox_id = $1";

/// Reads a row of [`META_SELECT`].
pub(crate) fn meta_from_row(row: &crate::sql::Row) -> crate::Result<MessageMeta> {
    let keywords: Option<String> = row.get(5)?;
    let mut flags = Flags::from_names(
        &keywords
            .unwrap_or_default()
            .split(' ')
            .filter(|k| !k.is_empty())
            .collect::<Vec<_>>(),
    );
    flags.system = row.get(2)?;
    Ok(MessageMeta {
        uid: row.get(0)?,
        modseq: row.get(1)?,
        flags,
        size: row.get(3)?,
        internal_date: row.get(4)?,
    })
}

/// UIDs as a JSON array, for `IN (SELECT value FROM json_each(..))`: one
/// bound parameter however many there are.
pub(crate) fn json_list(uids: &[i64]) -> String {
    format!("[{}]", uids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}
