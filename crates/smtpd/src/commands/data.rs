//! The message itself: DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030), our
//! Received header on top, the submission fix-ups, and the hand-over to the
//! backend before the 250.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{BodyType, DataOutcome, DataReader, MailObject, MessageOptions, Reply};

use crate::backend::{AcceptError, Backend, Client, Envelope, Filing};
use crate::error::{Error, Handled};
use crate::fixups::fixup_headers;
use crate::received::Trace;
use crate::session::{Content, Session, Transaction};

/// Buffer growth is left to the data itself beyond this, so a client
/// cannot make us reserve memory by declaring a large SIZE.
const MAX_PREALLOCATION: usize = 1024 * 1024;

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn data(&mut self) -> Handled {
        if let Some(refusal) = self.content_refusal() {
            return Err(Error::Refused(refusal));
        }
        let Some(transaction) = &self.transaction else {
            return Err(no_transaction());
        };
        if transaction.params.body == BodyType::BinaryMime {
            return Err(Error::refused(
                503,
                "5.5.1",
                "BINARYMIME messages must be sent with BDAT",
            ));
        }
        if transaction.content.is_some() {
            return Err(Error::refused(503, "5.5.1", "DATA is not allowed after BDAT"));
        }
        let mut content = self.begin_content();
        self.reply(Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()]));
        let mut reader = DataReader::new(self.config.max_message_size);
        let outcome = loop {
            let (used, outcome) = reader.feed(self.conn.buffered(), &mut content.bytes);
            self.conn.consume(used);
            if let Some(outcome) = outcome {
                break outcome;
            }
            self.read_more().await?;
        };
        let Some(transaction) = self.transaction.take() else {
            return Err(no_transaction());
        };
        match outcome {
            DataOutcome::TooBig => Err(Error::Refused(too_big())),
            DataOutcome::BareLineEnd => {
                metrics::SMTP_REFUSED.inc("other");
                Err(Error::refused(
                    554,
                    "5.6.0",
                    "Message contains a bare CR or LF; lines must end with CRLF (RFC 5321 §2.3.8)",
                ))
            }
            DataOutcome::Complete => self.finish(transaction, content).await,
        }
    }

    /// BDAT: exactly `size` octets follow the command line, whatever the
    /// answer will be, so they are read (and dropped if refused) in every
    /// case (RFC 3030 §2).
    pub(crate) async fn bdat(&mut self, size: u64, last: bool) -> Handled {
        let refusal = self.content_refusal();
        if refusal.is_none() && self.transaction.as_ref().is_some_and(|t| t.content.is_none()) {
            let content = self.begin_content();
            if let Some(transaction) = &mut self.transaction {
                transaction.content = Some(content);
            }
        }
        let max = self.config.max_message_size as u64;
        let mut remaining = size;
        while remaining > 0 {
            if self.conn.buffered().is_empty() {
                self.read_more().await?;
                continue;
            }
            let take = remaining.min(self.conn.buffered().len() as u64) as usize;
            let keep = self
                .transaction
                .as_mut()
                .and_then(|t| t.content.as_mut())
                .filter(|_| refusal.is_none());
            if let Some(content) = keep {
                content.size += take as u64;
                if content.size <= max {
                    content.bytes.extend_from_slice(&self.conn.buffered()[..take]);
                }
            }
            self.conn.consume(take);
            remaining -= take as u64;
        }
        if let Some(refusal) = refusal {
            return Err(Error::Refused(refusal));
        }
        if !last {
            return Ok(self.ok(Reply::new(250, "2.0.0", format!("{size} octets received"))));
        }
        let Some(mut transaction) = self.transaction.take() else {
            return Err(no_transaction());
        };
        let Some(content) = transaction.content.take() else {
            return Err(no_transaction());
        };
        if content.size > max {
            return Err(Error::Refused(too_big()));
        }
        self.finish(transaction, content).await
    }

    /// Why a message may not start now, if it may not. When this says
    /// nothing, a transaction is under way; the commands still check, and
    /// answer with [`no_transaction`] rather than not at all.
    fn content_refusal(&self) -> Option<Reply> {
        if self.helo.is_none() {
            return Some(Reply::new(503, "5.5.1", "Send EHLO or HELO first"));
        }
        match &self.transaction {
            None => Some(Reply::new(503, "5.5.1", "Need MAIL command")),
            Some(t) if t.recipients.is_empty() => Some(Reply::new(554, "5.5.1", "No valid recipients")),
            Some(_) => None,
        }
    }

    /// Starts the message with our Received header.
    fn begin_content(&self) -> Content {
        let id = self.server.backend.new_message_id();
        let received_at = now();
        let (Some(helo), Some(transaction)) = (&self.helo, &self.transaction) else {
            return Content {
                id,
                received_at,
                bytes: Vec::new(),
                trace_len: 0,
                size: 0,
            };
        };
        let hide_client = self.authenticated.is_some() && self.config.hide_client_ip;
        let header = Trace {
            helo: &helo.name,
            peer: (!hide_client).then_some(self.peer),
            hostname: &self.config.hostname,
            extended: helo.extended,
            tls: self.conn.tls_parameters(),
            authenticated: self.authenticated.is_some(),
            id: &id,
            single_recipient: match transaction.recipients.as_slice() {
                [only] => Some(&only.address),
                _ => None,
            },
            date: received_at,
        }
        .header();
        let declared = transaction.params.size.unwrap_or(0) as usize;
        let mut bytes = Vec::with_capacity(header.len() + declared.min(MAX_PREALLOCATION));
        bytes.extend_from_slice(header.as_bytes());
        Content {
            id,
            received_at,
            trace_len: bytes.len(),
            bytes,
            size: 0,
        }
    }

    /// Hands a complete message to the backend and answers for it.
    async fn finish(&mut self, transaction: Transaction, content: Content) -> Handled {
        let Content {
            id,
            received_at,
            mut bytes,
            trace_len,
            ..
        } = content;
        let mut message = bytes.split_off(trace_len);
        let header = crate::received::scan_header(&message);
        if header.hops >= crate::received::MAX_HOPS {
            tracing::warn!(%id, from = %transaction.from, "message refused: too many Received fields (a mail loop?)");
            metrics::SMTP_REFUSED.inc("other");
            return Err(Error::Logged(Reply::new(
                554,
                "5.4.6",
                "Too many hops: this message is looping",
            )));
        }
        let envelope = Envelope {
            id: &id,
            client: Client {
                ip: self.peer.ip().to_canonical(),
                helo: self.helo.as_ref().map_or("", |helo| &helo.name),
            },
            from: &transaction.from,
            recipients: &transaction.recipients,
            user: self.authenticated.as_deref(),
        };
        let checked = self
            .server
            .backend
            .check_message(self.sender_checks.take(), &envelope, &mut message)
            .await;
        bytes.append(&mut message);
        let filing = checked.map_err(|reply| {
            tracing::info!(%id, from = %transaction.from, code = reply.code, "message refused by the checks");
            Error::Logged(reply)
        })?;
        if self.authenticated.is_some() {
            let fields = fixup_headers(&bytes[trace_len..], &id, &self.config.hostname, received_at);
            bytes.splice(trace_len..trace_len, fields.into_bytes());
        }
        let size = bytes.len();
        self.check_quotas(&transaction, size as u64).await?;
        let recipients = transaction.recipients.len();
        let from = transaction.from.clone();
        let message = MailObject {
            id: id.clone(),
            reverse_path: transaction.from.to_string(),
            recipients: transaction.recipients,
            options: MessageOptions {
                body: transaction.params.body,
                smtputf8: transaction.params.smtputf8,
                dsn_ret: transaction.params.ret,
                dsn_envid: transaction.params.envid,
                submitted_by: self.authenticated.clone(),
                junk: filing == Filing::Junk,
                require_tls: transaction.params.require_tls,
                // RFC 8689 §4.1: with REQUIRETLS given, the field is ignored.
                tls_optional: header.tls_required_no && !transaction.params.require_tls,
            },
            content: bytes,
            received_at,
        };
        match self.server.backend.accept(message).await {
            Ok(()) => {
                tracing::info!(%id, %from, recipients, size, "message accepted");
                metrics::SMTP_ACCEPTED.inc("");
                Ok(self.ok(Reply::new(250, "2.0.0", format!("Ok: queued as {id}"))))
            }
            Err(AcceptError::StorageFull(error)) => Err(Error::Backend {
                reply: Reply::new(452, "4.3.1", "Insufficient system storage, try again later"),
                error,
            }),
            Err(AcceptError::Failed(error)) => Err(Error::Backend {
                reply: Reply::new(451, "4.3.0", "Temporary failure storing the message, try again later"),
                error,
            }),
        }
    }
}

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    /// At the end of the data, with the size known: a message that none
    /// of its recipients has room for is refused with the first one's
    /// reply (552 5.2.2 when larger than a whole quota). With some room,
    /// it is accepted: SMTP has one reply for all recipients, and the
    /// queue refuses the others' copies (bounced as 5.2.2, or retried as
    /// 4.2.2 until the queue lifetime ends), nothing partial stored.
    async fn check_quotas(&self, transaction: &Transaction, size: u64) -> Result<(), Error> {
        let mut refusal = None;
        for recipient in &transaction.recipients {
            match self.server.backend.check_quota(&recipient.address, size).await {
                Ok(()) => return Ok(()),
                Err(reply) => {
                    refusal.get_or_insert(reply);
                }
            }
        }
        match refusal {
            Some(reply) => {
                tracing::info!(from = %transaction.from, code = reply.code, "message refused: over quota");
                metrics::SMTP_REFUSED.inc("quota");
                Err(Error::Logged(reply))
            }
            None => Ok(()),
        }
    }
}

/// The refusal of a message over the size limit (counted here, as every
/// caller sends it).
fn too_big() -> Reply {
    metrics::SMTP_REFUSED.inc("size");
    Reply::new(552, "5.3.4", "Message size exceeds fixed maximum message size")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The answer where a transaction was expected and there is none. Not
/// reached after `content_refusal` passed, but a command must never end
/// without a reply.
fn no_transaction() -> Error {
    Error::refused(503, "5.5.1", "Need MAIL command")
}
