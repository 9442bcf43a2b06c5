//! DATA, RFC 5321 §4.1.1.4: the message, our Received header on top, and
//! the hand-over to the backend before the 250.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{DataOutcome, DataReader, Reply};

use crate::backend::{Backend, IncomingMessage};
use crate::received::Trace;
use crate::session::{Flow, Outcome, Session};

/// Buffer growth is left to the data itself beyond this, so a client
/// cannot make us reserve memory by declaring a large SIZE.
const MAX_PREALLOCATION: usize = 1024 * 1024;

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn data(&mut self) -> Outcome {
        let Some(helo) = &self.helo else {
            return Ok(self.error(Reply::new(503, "5.5.1", "Send EHLO or HELO first")));
        };
        let Some(transaction) = &self.transaction else {
            return Ok(self.error(Reply::new(503, "5.5.1", "Need MAIL command")));
        };
        if transaction.recipients.is_empty() {
            return Ok(self.error(Reply::new(554, "5.5.1", "No valid recipients")));
        }
        let id = self.server.backend.new_message_id();
        let received_at = now();
        let trace = Trace {
            helo: &helo.name,
            peer: self.peer,
            hostname: &self.server.config.hostname,
            extended: helo.extended,
            tls: self.conn.tls_parameters(),
            id: &id,
            single_recipient: match transaction.recipients.as_slice() {
                [only] => Some(only),
                _ => None,
            },
            date: received_at,
        };
        let header = trace.header();
        let capacity = header.len() + transaction.declared_size.unwrap_or(0).min(MAX_PREALLOCATION);
        let mut content = Vec::with_capacity(capacity);
        content.extend_from_slice(header.as_bytes());

        self.reply(Reply::plain(354, vec!["End data with <CR><LF>.<CR><LF>".into()]));
        let mut reader = DataReader::new(self.server.config.max_message_size);
        let outcome = loop {
            let (used, outcome) = reader.feed(self.conn.buffered(), &mut content);
            self.conn.consume(used);
            if let Some(outcome) = outcome {
                break outcome;
            }
            self.read_more().await?;
        };
        let Some(transaction) = self.transaction.take() else {
            return Ok(Flow::Continue);
        };
        match outcome {
            DataOutcome::TooBig => {
                return Ok(self.error(Reply::new(
                    552,
                    "5.3.4",
                    "Message size exceeds fixed maximum message size",
                )));
            }
            DataOutcome::BareLineFeed => {
                return Ok(self.error(Reply::new(
                    554,
                    "5.6.0",
                    "Message contains bare LF; lines must end with CRLF (RFC 5321 §2.3.8)",
                )));
            }
            DataOutcome::Complete => {}
        }
        let size = content.len();
        let recipients = transaction.recipients.len();
        let message = IncomingMessage {
            id: id.clone(),
            reverse_path: transaction.from.clone(),
            recipients: transaction.recipients,
            content,
            received_at,
        };
        match self.server.backend.accept(message).await {
            Ok(()) => {
                tracing::info!(%id, from = %transaction.from, recipients, size, "message accepted");
                Ok(self.ok(Reply::new(250, "2.0.0", format!("Ok: queued as {id}"))))
            }
            Err(e) => {
                tracing::error!(error = %e, "could not queue a message");
                Ok(self.ok(Reply::new(
                    451,
                    "4.3.0",
                    "Temporary failure storing the message, try again later",
                )))
            }
        }
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
