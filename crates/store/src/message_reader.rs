//! A stored message opened for reading: the trace header fields written
//! for its recipient, then its content. IMAP FETCH, POP3 RETR and the SMTP
//! client all read messages through [`Store::open_message`], so the two
//! parts are joined in this one place.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};

use crate::content_store::ContentReader;
use crate::{Result, Store};

/// Where a stored message's bytes are.
#[derive(Debug, Clone, Copy)]
pub struct StoredMessage<'a> {
    /// Trace header fields written for one recipient, shown before the
    /// content; empty for queued and appended messages.
    pub trace_headers: &'a [u8],
    pub blob_hash: &'a str,
    /// The content's header section, when the store kept it (see
    /// [`crate::MessageFacts`]): what a header-only read returns without
    /// opening the content.
    pub header: Option<&'a [u8]>,
}

/// An opened message: the trace fields (and, for a header-only read, the
/// stored header section), then the content if it was opened.
pub struct MessageReader {
    prefix: io::Cursor<Vec<u8>>,
    content: Option<ContentReader>,
    len: u64,
}

impl MessageReader {
    /// The bytes the reader yields in all.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Reads the whole message (from a reader not read from yet), the
    /// content in one go (see [`ContentRead::read_rest`]).
    pub async fn read_all(self) -> Result<Vec<u8>> {
        let mut out = self.prefix.into_inner();
        match self.content {
            None => Ok(out),
            Some(content) => {
                out.reserve(usize::try_from(self.len).unwrap_or(0).saturating_sub(out.len()));
                content.read_rest(out).await
            }
        }
    }
}

impl AsyncRead for MessageReader {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if (this.prefix.position() as usize) < this.prefix.get_ref().len() {
            return Pin::new(&mut this.prefix).poll_read(cx, buf);
        }
        match &mut this.content {
            Some(content) => Pin::new(content).poll_read(cx, buf),
            None => Poll::Ready(Ok(())),
        }
    }
}

impl Store {
    /// Opens a stored message: its trace fields, then its content. With
    /// `header_only`, a stored header section stands in for the content,
    /// which is then not opened at all.
    pub async fn open_message(&self, message: StoredMessage<'_>, header_only: bool) -> Result<MessageReader> {
        let mut prefix = message.trace_headers.to_vec();
        if header_only && let Some(header) = message.header {
            prefix.extend_from_slice(header);
            let len = prefix.len() as u64;
            return Ok(MessageReader {
                prefix: io::Cursor::new(prefix),
                content: None,
                len,
            });
        }
        let (content, content_len) = self.open_content(message.blob_hash).await?;
        Ok(MessageReader {
            len: prefix.len() as u64 + content_len,
            prefix: io::Cursor::new(prefix),
            content: Some(content),
        })
    }
}
