//! FETCH and UID FETCH (RFC 9051 §6.4.5, RFC 3516 BINARY): flags, dates,
//! sizes, the stored ENVELOPE and BODYSTRUCTURE, and sections cut from the
//! message as stored (its trace header fields first, then the blob).

use std::collections::HashMap;

use store::{FlagChange, Flags, MessageContent, MessageMeta, flag};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use wire::imap::{FetchItem, Section, SectionText, SequenceSet};

use crate::format::{date_time, flag_list, section_name};
use crate::session::{Flow, Outcome, Session, State};

/// How many messages' stored content one query loads (FETCH, SEARCH).
pub(crate) const CONTENT_BATCH: usize = 256;

/// What a FETCH answers with besides the items asked: \Seen set by it.
struct Answer {
    parts: Vec<Part>,
}

/// One item of a FETCH answer.
enum Part {
    Bytes(Vec<u8>),
    /// `label {n}` and the whole message as stored, streamed from its blob
    /// a chunk at a time so that a large message is never held whole
    /// (issue 7).
    Message(String),
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
    pub(crate) async fn fetch(&mut self, tag: &str, uid: bool, set: &SequenceSet, items: &[FetchItem]) -> Outcome {
        let State::Selected { view, .. } = &self.state else {
            return Ok(Flow::Continue);
        };
        let indexes = view.select(set, uid, &self.saved);
        let mailbox = view.mailbox.id;
        let read_only = view.read_only;
        let mut items = items.to_vec();
        // RFC 9051 §6.4.9: UID FETCH answers always carry the UID.
        if uid && !items.contains(&FetchItem::Uid) {
            items.insert(0, FetchItem::Uid);
        }
        let needs = Needs::of(&items, read_only);
        for batch in indexes.chunks(CONTENT_BATCH) {
            let mut contents = HashMap::new();
            if needs.content() {
                let State::Selected { view, .. } = &self.state else {
                    break;
                };
                let uids: Vec<i64> = batch.iter().map(|&index| view.messages[index].uid).collect();
                match self.server.store.message_contents(mailbox, &uids).await {
                    Ok(found) => contents.extend(found.into_iter().map(|content| (content.uid, content))),
                    Err(e) => return self.server_error(tag, &e),
                }
            }
            for &index in batch {
                let State::Selected { view, .. } = &self.state else {
                    break;
                };
                let mut meta = view.messages[index].clone();
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
                let raw = match (&content, needs.raw || facts_missing) {
                    (Some(content), true) => match self.raw(content, needs.header_only && !facts_missing).await {
                        Ok(raw) => Some(raw),
                        Err(e) => return self.server_error(tag, &e),
                    },
                    _ => None,
                };
                let mut flags_changed = false;
                if needs.sets_seen && !meta.flags.has(flag::SEEN) {
                    let seen = Flags {
                        system: flag::SEEN,
                        keywords: Vec::new(),
                    };
                    match self
                        .server
                        .store
                        .store_flags(mailbox, &[meta.uid], FlagChange::Add, &seen, None)
                        .await
                    {
                        Ok((changed, _)) => {
                            if let Some(new) = changed.into_iter().next() {
                                meta = new;
                                flags_changed = true;
                                if let State::Selected { view, .. } = &mut self.state {
                                    view.absorb_own_change(vec![meta.clone()]);
                                }
                            }
                        }
                        Err(e) => return self.server_error(tag, &e),
                    }
                }
                let State::Selected { view, .. } = &self.state else {
                    break;
                };
                let flag_names = view.flag_names(&meta);
                let answer = match answer(&items, &meta, &flag_names, content.as_ref(), raw.as_deref()) {
                    Ok(answer) => answer,
                    Err(Unknown) => {
                        return self.no(tag, Some("UNKNOWN-CTE"), "Cannot decode that content transfer encoding");
                    }
                };
                let mut parts = answer.parts;
                if flags_changed && !items.contains(&FetchItem::Flags) {
                    parts.push(Part::Bytes(format!("FLAGS {}", flag_list(&flag_names)).into_bytes()));
                }
                if !self.write_answer(tag, index, parts, content.as_ref()).await? {
                    return Ok(Flow::Continue);
                }
                if self.conn.pending_output() > 256 * 1024 {
                    self.conn.flush().await.map_err(|_| crate::session::Disconnect)?;
                }
            }
        }
        self.report_changes(false, false).await?;
        self.ok(tag, "FETCH completed")
    }

    /// The message as stored: its trace header fields, then the blob; or,
    /// when `header_only` and the store has it, just the header section.
    pub(crate) async fn raw(&self, content: &MessageContent, header_only: bool) -> Result<Vec<u8>, store::Error> {
        if header_only && let Some(header) = content.stored_header() {
            return Ok(header);
        }
        let mut raw = Vec::with_capacity(content.size.max(0) as usize);
        raw.extend_from_slice(&content.trace_headers);
        self.server.store.read_content(&content.blob_hash, raw).await
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
            sets_seen: !read_only
                && items.iter().any(|item| match item {
                    FetchItem::BodySection { peek, .. } | FetchItem::Binary { peek, .. } => !peek,
                    FetchItem::Rfc822 | FetchItem::Rfc822Text => true,
                    _ => false,
                }),
        }
    }

    /// Whether the stored content (facts, header, blob name) is loaded.
    fn content(&self) -> bool {
        self.raw || self.streams || self.facts
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// Writes one `* n FETCH (...)` answer; false if it answered the
    /// command with NO instead. Streamed messages are opened before the
    /// answer begins, so that a missing blob is a NO, not a broken response.
    async fn write_answer(
        &mut self,
        tag: &str,
        index: usize,
        parts: Vec<Part>,
        content: Option<&MessageContent>,
    ) -> Result<bool, crate::session::Disconnect> {
        let mut files = Vec::new();
        for _ in parts.iter().filter(|part| matches!(part, Part::Message(_))) {
            let Some(content) = content else { break };
            match self.server.store.open_content(&content.blob_hash).await {
                Ok(opened) => files.push(opened),
                Err(e) => {
                    self.server_error(tag, &e)?;
                    return Ok(false);
                }
            }
        }
        let mut files = files.into_iter();
        self.conn
            .output()
            .extend_from_slice(format!("* {} FETCH (", index + 1).as_bytes());
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                self.conn.output().push(b' ');
            }
            match part {
                Part::Bytes(bytes) => self.conn.output().extend_from_slice(&bytes),
                Part::Message(label) => match (content, files.next()) {
                    (Some(content), Some((reader, len))) => self.stream_message(&label, content, reader, len).await?,
                    // Not reached: streaming items load the content.
                    _ => self.conn.output().extend_from_slice(format!("{label} NIL").as_bytes()),
                },
            }
        }
        self.conn.output().extend_from_slice(b")\r\n");
        Ok(true)
    }

    /// Writes `label {n}` and the message as stored (trace fields, then the
    /// blob), reading the blob a chunk at a time and flushing as output
    /// builds up. A blob that ends early cannot be answered any more: the
    /// literal's size is out, so the connection is closed.
    async fn stream_message(
        &mut self,
        label: &str,
        content: &MessageContent,
        mut reader: store::ContentReader,
        blob_len: u64,
    ) -> Result<(), crate::session::Disconnect> {
        let total = content.trace_headers.len() as u64 + blob_len;
        let out = self.conn.output();
        out.extend_from_slice(format!("{label} {{{total}}}\r\n").as_bytes());
        out.extend_from_slice(&content.trace_headers);
        let mut left = blob_len;
        let mut chunk = vec![0u8; STREAM_CHUNK];
        while left > 0 {
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            let n = match reader.read(&mut chunk[..want]).await {
                Ok(0) | Err(_) => {
                    tracing::error!(blob = %content.blob_hash, "message content ended early");
                    return Err(crate::session::Disconnect);
                }
                Ok(n) => n,
            };
            self.conn.output().extend_from_slice(&chunk[..n]);
            left -= n as u64;
            if self.conn.pending_output() >= 4 * STREAM_CHUNK {
                self.conn.flush().await.map_err(|_| crate::session::Disconnect)?;
            }
        }
        Ok(())
    }
}

/// A BINARY item named a content transfer encoding we cannot undo.
struct Unknown;

fn answer(
    items: &[FetchItem],
    meta: &MessageMeta,
    flag_names: &[String],
    content: Option<&MessageContent>,
    raw: Option<&[u8]>,
) -> Result<Answer, Unknown> {
    let facts = content.map(|c| match (&c.envelope, &c.body_structure, &c.body) {
        (Some(envelope), Some(structure), Some(body)) if !envelope.is_empty() => {
            (envelope.clone(), structure.clone(), body.clone())
        }
        // Stored before facts were computed: work them out now.
        _ => {
            let facts = mime::facts(raw.unwrap_or_default());
            (facts.envelope, facts.body_structure, facts.body)
        }
    });
    let raw = raw.unwrap_or_default();
    let mut parts = Vec::new();
    for item in items {
        if is_whole_message(item) {
            let label = if *item == FetchItem::Rfc822 { "RFC822" } else { "BODY[]" };
            parts.push(Part::Message(label.to_string()));
            continue;
        }
        let part = match item {
            FetchItem::Uid => format!("UID {}", meta.uid).into_bytes(),
            FetchItem::Flags => format!("FLAGS {}", flag_list(flag_names)).into_bytes(),
            FetchItem::InternalDate => format!("INTERNALDATE {}", date_time(meta.internal_date)).into_bytes(),
            FetchItem::Rfc822Size => format!("RFC822.SIZE {}", meta.size).into_bytes(),
            FetchItem::ModSeq => format!("MODSEQ ({})", meta.modseq).into_bytes(),
            FetchItem::Envelope => format!("ENVELOPE {}", facts.as_ref().map_or("NIL", |f| f.0.as_str())).into_bytes(),
            FetchItem::BodyStructure => {
                format!("BODYSTRUCTURE {}", facts.as_ref().map_or("NIL", |f| f.1.as_str())).into_bytes()
            }
            FetchItem::Body => format!("BODY {}", facts.as_ref().map_or("NIL", |f| f.2.as_str())).into_bytes(),
            FetchItem::Rfc822 => literal("RFC822", raw),
            FetchItem::Rfc822Header => literal(
                "RFC822.HEADER",
                &mime::section(raw, &[], Some(&SectionText::Header)).unwrap_or_default(),
            ),
            FetchItem::Rfc822Text => literal(
                "RFC822.TEXT",
                &mime::section(raw, &[], Some(&SectionText::Text)).unwrap_or_default(),
            ),
            FetchItem::BodySection { section, partial, .. } => {
                let data = mime::section(raw, &section.part, section.text.as_ref()).unwrap_or_default();
                let (data, origin) = cut(&data, *partial);
                literal(&format!("BODY[{}]{origin}", section_name(section)), data)
            }
            FetchItem::Binary { part, partial, .. } => {
                let name = section_name(&Section {
                    part: part.clone(),
                    text: None,
                });
                match mime::binary(raw, part) {
                    Err(_) => return Err(Unknown),
                    Ok(None) => format!("BINARY[{name}] NIL").into_bytes(),
                    Ok(Some(data)) => {
                        let (data, origin) = cut(&data, *partial);
                        // RFC 3516 §4.3: ~{n} when the data holds NUL.
                        let label = format!("BINARY[{name}]{origin}");
                        if data.contains(&0) {
                            binary_literal(&label, data)
                        } else {
                            literal(&label, data)
                        }
                    }
                }
            }
            FetchItem::BinarySize { part } => {
                let name = section_name(&Section {
                    part: part.clone(),
                    text: None,
                });
                match mime::binary(raw, part) {
                    Err(_) => return Err(Unknown),
                    Ok(data) => format!("BINARY.SIZE[{name}] {}", data.map_or(0, |d| d.len())).into_bytes(),
                }
            }
        };
        parts.push(Part::Bytes(part));
    }
    Ok(Answer { parts })
}

/// A partial fetch `<start.count>` and how the answer names it (`<start>`).
fn cut(data: &[u8], partial: Option<(u32, u32)>) -> (&[u8], String) {
    match partial {
        None => (data, String::new()),
        Some((start, count)) => {
            let start_at = (start as usize).min(data.len());
            let end = start_at.saturating_add(count as usize).min(data.len());
            (&data[start_at..end], format!("<{start}>"))
        }
    }
}

fn literal(label: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("{label} {{{}}}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out
}

fn binary_literal(label: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("{label} ~{{{}}}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out
}
