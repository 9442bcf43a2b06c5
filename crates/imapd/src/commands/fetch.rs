//! FETCH and UID FETCH (RFC 9051 §6.4.5, RFC 3516 BINARY): flags, dates,
//! sizes, the stored ENVELOPE and BODYSTRUCTURE, and sections cut from the
//! message as stored (its trace header fields first, then the blob).

use std::collections::{HashMap, HashSet};

use store::{MessageContent, MessageMeta, flag};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use wire::imap::{FetchItem, FetchModifiers, Section, SectionText, SequenceSet};

use crate::commands::{fetch_meta, objects};
use crate::error::{CommandError, Reply};
use crate::format::{date_time, flag_list, section_name};
use crate::session::{Disconnect, Session};
use crate::uidonly;
use crate::view::View;

/// How many messages' stored content one query loads (FETCH, SEARCH).
pub(crate) const CONTENT_BATCH: usize = 256;

/// How many messages' flags, sizes and dates one query loads, when FETCH
/// needs nothing else of them.
const META_BATCH: usize = 4096;

/// Whether an item is a non-PEEK body item, which sets \Seen (RFC 9051
/// §6.4.5).
fn sets_seen(items: &[FetchItem]) -> bool {
    items.iter().any(|item| match item {
        FetchItem::BodySection { peek, .. } | FetchItem::Binary { peek, .. } => !peek,
        FetchItem::Rfc822 | FetchItem::Rfc822Text => true,
        _ => false,
    })
}

/// One item of a FETCH answer, made just before it is written, so that
/// an answer never holds more than one item's data (issue 12, attack 4).
enum Part {
    /// Written as it is: small.
    Bytes(Vec<u8>),
    /// `label {n}` (`~{n}` for BINARY data holding NUL, RFC 3516 §4.3)
    /// and the data, written a chunk at a time.
    Literal { label: String, data: Vec<u8>, binary: bool },
    /// `label {n}` and the whole message as stored, streamed from its blob
    /// a chunk at a time so that a large message is never held whole
    /// (issue 7).
    Message(String),
}

/// The items as answered: each once, PEEK or not (RFC 9051 §6.4.5 names
/// the answer the same), a non-PEEK one setting \Seen for all. `None` if
/// more than `max` distinct ones are asked for.
fn distinct_items(items: &[FetchItem], max: usize) -> Option<Vec<FetchItem>> {
    fn peek(item: &mut FetchItem) -> Option<&mut bool> {
        match item {
            FetchItem::BodySection { peek, .. } | FetchItem::Binary { peek, .. } => Some(peek),
            _ => None,
        }
    }
    // Each kept item, and the same with PEEK taken off to compare by.
    let mut distinct: Vec<(FetchItem, FetchItem)> = Vec::new();
    for item in items {
        let mut key = item.clone();
        let peeks = peek(&mut key).map(|peek| std::mem::replace(peek, false));
        match distinct.iter().position(|(k, _)| *k == key) {
            Some(at) => {
                if peeks == Some(false)
                    && let Some(peek) = peek(&mut distinct[at].1)
                {
                    *peek = false;
                }
            }
            None if distinct.len() >= max => return None,
            None => distinct.push((key, item.clone())),
        }
    }
    Some(distinct.into_iter().map(|(_, item)| item).collect())
}

/// Items answered with the whole message, which is streamed, not read.
fn is_whole_message(item: &FetchItem) -> bool {
    match item {
        FetchItem::Rfc822 => true,
        FetchItem::BodySection { section, partial, .. } => {
            section.part.is_empty() && section.text.is_none() && partial.is_none()
        }
        _ => false,
    }
}

/// How much of a streamed message is read at a time.
const STREAM_CHUNK: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn fetch(
        &mut self,
        tag: &str,
        view: &mut View,
        (uid, set): (bool, &SequenceSet),
        items: &[FetchItem],
        modifiers: FetchModifiers,
    ) -> Reply {
        // RFC 7162 §3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE,
        // once QRESYNC is enabled (§3.2.3).
        if modifiers.vanished {
            if !uid {
                return Err(CommandError::bad("VANISHED is only allowed in UID FETCH"));
            }
            if modifiers.changed_since.is_none() {
                return Err(CommandError::bad("VANISHED needs CHANGEDSINCE"));
            }
            if !self.ext.qresync {
                return Err(CommandError::bad("VANISHED needs ENABLE QRESYNC first"));
            }
        }
        let mut indexes = view.select(set, uid, &self.saved);
        let Some(mut items) = distinct_items(items, self.config.max_fetch_items) else {
            return Err(CommandError::bad("Too many distinct FETCH items"));
        };
        // RFC 9051 §6.4.9: UID FETCH answers always carry the UID.
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        // RFC 7162 §3.1: MODSEQ and CHANGEDSINCE enable CONDSTORE, which
        // puts MODSEQ beside FLAGS from then on; CHANGEDSINCE implies it
        // (§3.1.4.1) and keeps only the messages changed after it.
        if modifiers.changed_since.is_some() || items.contains(&FetchItem::ModSeq) {
            self.enable_condstore(Some(view));
        }
        if modifiers.changed_since.is_some() && !items.contains(&FetchItem::ModSeq) {
            items.push(FetchItem::ModSeq);
        }
        self.answer_form(&mut items);
        if let Some(since) = modifiers.changed_since {
            let since = i64::try_from(since).unwrap_or(i64::MAX);
            // By the store's MODSEQ index: as many rows as changes.
            let changed = self.server.store.messages_changed_since(view.mailbox.id, since).await?;
            // In UID order, as the view is: a binary search per message.
            let changed: Vec<i64> = changed.into_iter().map(|m| m.uid).collect();
            indexes.retain(|&index| changed.binary_search(&view.uid(index)).is_ok());
            if modifiers.vanished {
                self.vanished_earlier(view, Some(set), since).await?;
            }
        }
        let needs = Needs::of(&items, view.read_only);
        for batch in indexes.chunks(needs.batch()) {
            self.fetch_batch(view, batch, &items, &needs).await?;
        }
        self.report_changes(view, false, false).await?;
        self.ok(tag, "FETCH completed")
    }

    /// FETCH answers for new messages, unasked: the items NOTIFY's
    /// MessageNew named (RFC 5465 §5.2), checked not to set \Seen.
    pub(crate) async fn fetch_notified(
        &mut self,
        view: &mut View,
        indexes: &[usize],
        items: &[FetchItem],
    ) -> Result<(), CommandError> {
        let Some(mut items) = distinct_items(items, self.config.max_fetch_items) else {
            return Ok(());
        };
        self.answer_form(&mut items);
        let needs = Needs::of(&items, view.read_only);
        for batch in indexes.chunks(CONTENT_BATCH) {
            self.fetch_batch(view, batch, &items, &needs).await?;
        }
        Ok(())
    }

    /// The items as the session's extensions answer them, for FETCH and
    /// NOTIFY's MessageNew alike: with CONDSTORE on, FLAGS come with
    /// MODSEQ (RFC 7162 §3.1); with UIDONLY, the UID stands in front of
    /// the answer instead of among its items (RFC 9586 §3.3).
    fn answer_form(&self, items: &mut Vec<FetchItem>) {
        if self.ext.condstore && items.contains(&FetchItem::Flags) && !items.contains(&FetchItem::ModSeq) {
            items.push(FetchItem::ModSeq);
        }
        if self.ext.uidonly {
            uidonly::drop_uid_item(items);
        }
    }

    /// Answers for the messages at `batch` in the view: their content
    /// loaded in one query, \Seen set in one write.
    async fn fetch_batch(
        &mut self,
        view: &mut View,
        batch: &[usize],
        items: &[FetchItem],
        needs: &Needs,
    ) -> Result<(), CommandError> {
        if fetch_meta::only_row_items(items) {
            return self.fetch_rows(view, batch, items).await;
        }
        let uids: Vec<i64> = batch.iter().map(|&index| view.uid(index)).collect();
        let mut contents = HashMap::new();
        if needs.content() {
            let found = self.server.store.message_contents(view.mailbox.id, &uids).await?;
            contents.extend(found.into_iter().map(|content| (content.uid, content)));
        }
        let mut metas = self.batch_metas(view, &uids, items, needs).await?;
        let seen = if needs.sets_seen {
            self.mark_seen(view, batch, &contents, &mut metas, items).await?
        } else {
            HashSet::new()
        };
        let messages = items.iter().filter(|item| is_whole_message(item)).count();
        for (&index, &uid) in batch.iter().zip(&uids) {
            let meta = match metas.remove(&uid) {
                Some(meta) => meta,
                // Expunged by another session: nothing left to show.
                None if needs.meta => continue,
                // Only the UID is answered: the view has it.
                None => MessageMeta::bare(uid),
            };
            let content = match contents.remove(&meta.uid) {
                Some(content) => Some(content),
                // Expunged by another session: nothing left to show.
                None if needs.content() => continue,
                None => None,
            };
            // Stored before the facts were kept: they are worked out
            // from the whole message.
            let facts_missing = needs.facts
                && content
                    .as_ref()
                    .is_some_and(|c| c.envelope.as_deref().is_none_or(str::is_empty));
            // Stored before previews were kept: worked out from the message.
            let preview_missing = needs.preview && content.as_ref().is_some_and(|c| c.preview.is_none());
            let raw = match (&content, needs.raw || facts_missing || preview_missing) {
                (Some(content), true) => {
                    let header_only = needs.header_only && !facts_missing && !preview_missing;
                    self.raw(content, header_only).await?
                }
                _ => Vec::new(),
            };
            // Checked before the answer begins, so that it can be a NO.
            if !decodable(items, &raw) {
                return Err(CommandError::no(
                    "UNKNOWN-CTE",
                    "Cannot decode that content transfer encoding",
                ));
            }
            let flag_names = view.flag_names(&meta);
            let facts = content
                .as_ref()
                .filter(|_| needs.facts)
                .map(|content| facts(content, &raw));
            // RFC 9051 §6.4.5: a FETCH that sets \Seen says so, with the
            // new MODSEQ once CONDSTORE is on (RFC 7162 §3.1).
            let extra = (seen.contains(&meta.uid) && !items.contains(&FetchItem::Flags)).then(|| {
                let mut flags = format!("FLAGS {}", flag_list(&flag_names));
                if self.ext.condstore && !items.contains(&FetchItem::ModSeq) {
                    flags.push_str(&format!(" MODSEQ ({})", meta.modseq));
                }
                Part::Bytes(flags.into_bytes())
            });
            let answer = items
                .iter()
                .map(|item| match item {
                    item if objects::is_object_item(item) => {
                        Part::Bytes(objects::fetch_answer(item, content.as_ref(), &raw))
                    }
                    item => part(item, &meta, &flag_names, facts.as_ref(), &raw),
                })
                .chain(extra);
            let prefix = uidonly::fetch_prefix(index + 1, meta.uid, self.ext);
            self.write_answer(&prefix, answer, messages, content.as_ref()).await?;
            if self.conn.pending_output() > 256 * 1024 {
                self.conn.flush().await.map_err(|_| Disconnect)?;
            }
        }
        Ok(())
    }

    /// The flags, sizes, dates and MODSEQs of the messages `uids`, as
    /// stored now (the view keeps none), if the items need them; FLAGS
    /// first when they are shown and use a keyword the client was not told
    /// of.
    async fn batch_metas(
        &mut self,
        view: &mut View,
        uids: &[i64],
        items: &[FetchItem],
        needs: &Needs,
    ) -> Result<HashMap<i64, MessageMeta>, CommandError> {
        if !needs.meta {
            return Ok(HashMap::new());
        }
        let found = self.server.store.message_metas(view.mailbox.id, uids).await?;
        if items.contains(&FetchItem::Flags) {
            let mut announce = Vec::new();
            view.showing(&self.server.store, &found, &mut announce).await?;
            self.conn.send(&announce);
        }
        Ok(found.into_iter().map(|meta| (meta.uid, meta)).collect())
    }

    /// Sets \Seen on the messages of `batch` that lack it and will be
    /// answered, in one store call (one group-commit job, not one per
    /// message); returns the UIDs it changed, whose `metas` it updates. A BINARY item that cannot be
    /// decoded ends the FETCH with NO at its message (RFC 3516 §4.3): that
    /// message is marked (as it always was: it was marked before the
    /// check), those after it are not answered, so not marked either.
    async fn mark_seen(
        &mut self,
        view: &mut View,
        batch: &[usize],
        contents: &HashMap<i64, MessageContent>,
        metas: &mut HashMap<i64, MessageMeta>,
        items: &[FetchItem],
    ) -> Result<HashSet<i64>, CommandError> {
        let binary = items
            .iter()
            .any(|item| matches!(item, FetchItem::Binary { .. } | FetchItem::BinarySize { .. }));
        let mut unseen = Vec::new();
        for &index in batch {
            let Some(meta) = metas.get(&view.uid(index)) else {
                continue;
            };
            let Some(content) = contents.get(&meta.uid) else {
                continue;
            };
            if !meta.flags.has(flag::SEEN) {
                unseen.push(meta.uid);
            }
            if binary && !decodable(items, &self.raw(content, false).await?) {
                break;
            }
        }
        if unseen.is_empty() {
            return Ok(HashSet::new());
        }
        let changed = self.server.store.add_seen(view.mailbox.id, &unseen).await?;
        let marked = changed.iter().map(|meta| meta.uid).collect();
        let mut announce = Vec::new();
        view.absorb_own_change(&self.server.store, &changed, &mut announce)
            .await?;
        self.conn.send(&announce);
        metas.extend(changed.into_iter().map(|meta| (meta.uid, meta)));
        Ok(marked)
    }

    /// The message as stored: its trace header fields, then the blob; or,
    /// when `header_only` and the store has it, just the header section.
    pub(crate) async fn raw(&self, content: &MessageContent, header_only: bool) -> Result<Vec<u8>, store::Error> {
        let message = self.server.store.open_message(content.stored(), header_only).await?;
        message.read_all().await
    }
}

/// What a FETCH's items need of each message.
struct Needs {
    /// The message's bytes (or its header, see `header_only`).
    raw: bool,
    /// Every item that needs bytes is answered from the header section.
    header_only: bool,
    /// An item is the whole message, streamed from the blob.
    streams: bool,
    /// ENVELOPE, BODY or BODYSTRUCTURE.
    facts: bool,
    /// A non-PEEK body item sets \Seen (RFC 9051 §6.4.5).
    sets_seen: bool,
    /// EMAILID, THREADID, SAVEDATE or PREVIEW: kept in the stored row.
    objects: bool,
    /// FLAGS, INTERNALDATE, RFC822.SIZE or MODSEQ, or \Seen to set: read
    /// from the store (`Store::message_metas`).
    meta: bool,
    /// PREVIEW without LAZY: worked out if not stored.
    preview: bool,
}

impl Needs {
    fn of(items: &[FetchItem], read_only: bool) -> Needs {
        Needs {
            raw: items.iter().any(|item| {
                !is_whole_message(item)
                    && matches!(
                        item,
                        FetchItem::BodySection { .. }
                            | FetchItem::Binary { .. }
                            | FetchItem::BinarySize { .. }
                            | FetchItem::Rfc822Header
                            | FetchItem::Rfc822Text
                    )
            }),
            header_only: items.iter().all(|item| match item {
                item if is_whole_message(item) => true,
                FetchItem::BodySection { section, .. } => {
                    section.part.is_empty()
                        && matches!(
                            section.text,
                            Some(SectionText::Header | SectionText::HeaderFields(_) | SectionText::HeaderFieldsNot(_))
                        )
                }
                FetchItem::Binary { .. } | FetchItem::BinarySize { .. } | FetchItem::Rfc822Text => false,
                _ => true,
            }),
            streams: items.iter().any(is_whole_message),
            facts: items
                .iter()
                .any(|i| matches!(i, FetchItem::Envelope | FetchItem::BodyStructure | FetchItem::Body)),
            sets_seen: !read_only && sets_seen(items),
            objects: items.iter().any(objects::is_object_item),
            meta: !read_only && sets_seen(items)
                || items.iter().any(|item| {
                    matches!(
                        item,
                        FetchItem::Flags | FetchItem::InternalDate | FetchItem::Rfc822Size | FetchItem::ModSeq
                    )
                }),
            preview: items.contains(&FetchItem::Preview { lazy: false }),
        }
    }

    /// How many messages one batch answers: fewer when each brings its
    /// stored content, many when only flags, sizes and dates are read
    /// (`FETCH 1:* (UID FLAGS)` of a large mailbox in few queries).
    fn batch(&self) -> usize {
        if self.content() { CONTENT_BATCH } else { META_BATCH }
    }

    /// Whether the stored content (facts, header, blob name) is loaded.
    fn content(&self) -> bool {
        self.raw || self.streams || self.facts || self.objects
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Writes one `* n FETCH (...)` answer (`prefix` up to its open
    /// parenthesis), each part as it is made. Streamed messages are opened
    /// before the answer begins, so that a missing blob is a NO, not a
    /// broken response.
    async fn write_answer(
        &mut self,
        prefix: &str,
        parts: impl Iterator<Item = Part>,
        messages: usize,
        content: Option<&MessageContent>,
    ) -> Result<(), CommandError> {
        let mut files = Vec::new();
        for _ in 0..messages {
            let Some(content) = content else { break };
            files.push(self.server.store.open_message(content.stored(), false).await?);
        }
        let mut files = files.into_iter();
        self.conn.output().extend_from_slice(prefix.as_bytes());
        for (i, part) in parts.enumerate() {
            if i > 0 {
                self.conn.output().push(b' ');
            }
            match part {
                Part::Bytes(bytes) => self.conn.output().extend_from_slice(&bytes),
                Part::Literal { label, data, binary } => {
                    let tilde = if binary { "~" } else { "" };
                    let head = format!("{label} {tilde}{{{}}}\r\n", data.len());
                    self.conn.output().extend_from_slice(head.as_bytes());
                    for chunk in data.chunks(STREAM_CHUNK) {
                        self.conn.output().extend_from_slice(chunk);
                        self.flush_if_full().await?;
                    }
                }
                Part::Message(label) => match (content, files.next()) {
                    (Some(content), Some(reader)) => self.stream_message(&label, content, reader).await?,
                    // Not reached: streaming items load the content.
                    _ => self.conn.output().extend_from_slice(format!("{label} NIL").as_bytes()),
                },
            }
            self.flush_if_full().await?;
        }
        self.conn.output().extend_from_slice(b")\r\n");
        Ok(())
    }

    /// Sends what output has built up once it is more than a few chunks:
    /// what a session holds to send stays that small.
    async fn flush_if_full(&mut self) -> Result<(), Disconnect> {
        if self.conn.pending_output() >= 4 * STREAM_CHUNK {
            self.conn.flush().await.map_err(|_| Disconnect)?;
        }
        Ok(())
    }

    /// Writes `label {n}` and the message as stored (trace fields, then the
    /// blob), reading the blob a chunk at a time and flushing as output
    /// builds up. A blob that ends early cannot be answered any more: the
    /// literal's size is out, so the connection is closed.
    async fn stream_message(
        &mut self,
        label: &str,
        content: &MessageContent,
        mut reader: store::MessageReader,
    ) -> Result<(), Disconnect> {
        let total = reader.len();
        self.conn
            .output()
            .extend_from_slice(format!("{label} {{{total}}}\r\n").as_bytes());
        let mut left = total;
        let mut chunk = vec![0u8; STREAM_CHUNK];
        while left > 0 {
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = match reader.read(&mut chunk[..want]).await {
                Ok(0) | Err(_) => {
                    tracing::error!(blob = %content.blob_hash, "message content ended early");
                    return Err(Disconnect);
                }
                Ok(n) => n,
            };
            self.conn.output().extend_from_slice(&chunk[..n]);
            left -= n as u64;
            self.flush_if_full().await?;
        }
        Ok(())
    }
}

/// Whether every BINARY item can be answered (RFC 3516 §4.3: else NO
/// [UNKNOWN-CTE]).
fn decodable(items: &[FetchItem], raw: &[u8]) -> bool {
    items.iter().all(|item| match item {
        FetchItem::Binary { part, .. } | FetchItem::BinarySize { part } => imf::binary_decodable(raw, part),
        _ => true,
    })
}

/// ENVELOPE, BODYSTRUCTURE and BODY as stored, or worked out from the
/// message if it was stored before they were kept.
fn facts(content: &MessageContent, raw: &[u8]) -> (String, String, String) {
    match (&content.envelope, &content.body_structure, &content.body) {
        (Some(envelope), Some(structure), Some(body)) if !envelope.is_empty() => {
            (envelope.clone(), structure.clone(), body.clone())
        }
        _ => {
            let facts = imf::facts(raw);
            (facts.envelope, facts.body_structure, facts.body)
        }
    }
}

/// The answer to one item. `raw` is the message (or its header, when
/// that is all the items need).
fn part(
    item: &FetchItem,
    meta: &MessageMeta,
    flag_names: &[String],
    facts: Option<&(String, String, String)>,
    raw: &[u8],
) -> Part {
    if is_whole_message(item) {
        let label = if *item == FetchItem::Rfc822 { "RFC822" } else { "BODY[]" };
        return Part::Message(label.to_string());
    }
    let literal = |label: String, data: Vec<u8>| Part::Literal {
        label,
        data,
        binary: false,
    };
    let bytes = |text: String| Part::Bytes(text.into_bytes());
    match item {
        FetchItem::Uid => bytes(format!("UID {}", meta.uid)),
        FetchItem::Flags => bytes(format!("FLAGS {}", flag_list(flag_names))),
        FetchItem::InternalDate => bytes(format!("INTERNALDATE {}", date_time(meta.internal_date))),
        FetchItem::Rfc822Size => bytes(format!("RFC822.SIZE {}", meta.size)),
        FetchItem::ModSeq => bytes(format!("MODSEQ ({})", meta.modseq)),
        FetchItem::Envelope => bytes(format!("ENVELOPE {}", facts.map_or("NIL", |f| f.0.as_str()))),
        FetchItem::BodyStructure => bytes(format!("BODYSTRUCTURE {}", facts.map_or("NIL", |f| f.1.as_str()))),
        FetchItem::Body => bytes(format!("BODY {}", facts.map_or("NIL", |f| f.2.as_str()))),
        FetchItem::Rfc822 => literal("RFC822".into(), raw.to_vec()),
        FetchItem::Rfc822Header => literal(
            "RFC822.HEADER".into(),
            imf::section(raw, &[], Some(&SectionText::Header)).unwrap_or_default(),
        ),
        FetchItem::Rfc822Text => literal(
            "RFC822.TEXT".into(),
            imf::section(raw, &[], Some(&SectionText::Text)).unwrap_or_default(),
        ),
        FetchItem::BodySection { section, partial, .. } => {
            let data = imf::section(raw, &section.part, section.text.as_ref()).unwrap_or_default();
            let (data, origin) = cut(data, *partial);
            literal(format!("BODY[{}]{origin}", section_name(section)), data)
        }
        FetchItem::Binary { part, partial, .. } => {
            let name = section_name(&Section {
                part: part.clone(),
                text: None,
            });
            match imf::binary(raw, part) {
                // Not reached for what `decodable` passed.
                Err(_) | Ok(None) => bytes(format!("BINARY[{name}] NIL")),
                Ok(Some(data)) => {
                    let (data, origin) = cut(data, *partial);
                    // RFC 3516 §4.3: ~{n} when the data holds NUL.
                    Part::Literal {
                        label: format!("BINARY[{name}]{origin}"),
                        binary: data.contains(&0),
                        data,
                    }
                }
            }
        }
        FetchItem::BinarySize { part } => {
            let name = section_name(&Section {
                part: part.clone(),
                text: None,
            });
            let size = imf::binary(raw, part).ok().flatten().map_or(0, |d| d.len());
            bytes(format!("BINARY.SIZE[{name}] {size}"))
        }
        // Answered by `objects::fetch_answer` before this is called.
        FetchItem::EmailId | FetchItem::ThreadId | FetchItem::SaveDate | FetchItem::Preview { .. } => {
            Part::Bytes(Vec::new())
        }
    }
}

/// A partial fetch `<start.count>` and how the answer names it (`<start>`).
fn cut(mut data: Vec<u8>, partial: Option<(u32, u32)>) -> (Vec<u8>, String) {
    match partial {
        None => (data, String::new()),
        Some((start, count)) => {
            let start_at = (start as usize).min(data.len());
            let end = start_at.saturating_add(count as usize).min(data.len());
            data.truncate(end);
            data.drain(..start_at);
            (data, format!("<{start}>"))
        }
    }
}
