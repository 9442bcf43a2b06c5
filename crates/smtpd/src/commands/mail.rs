//! MAIL FROM, RFC 5321 §4.1.1.2, with SIZE (RFC 1870) and BODY (RFC 6152).

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{Param, Reply, ReversePath};

use crate::backend::Backend;
use crate::session::{Flow, Session, Transaction};

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) fn mail(&mut self, from: ReversePath, params: Vec<Param>) -> Flow {
        let Some(helo) = &self.helo else {
            return self.error(Reply::new(503, "5.5.1", "Send EHLO or HELO first"));
        };
        if self.transaction.is_some() {
            return self.error(Reply::new(503, "5.5.1", "Sender already specified"));
        }
        if !helo.extended && !params.is_empty() {
            return self.error(Reply::new(555, "5.5.4", "Parameters need EHLO"));
        }
        if let ReversePath::Mailbox(mailbox) = &from
            && !mailbox.is_ascii()
        {
            // RFC 6531 §3.7.4.1; SMTPUTF8 is not offered.
            return self.error(Reply::new(553, "5.6.7", "Non-ASCII addresses need SMTPUTF8"));
        }
        let mut declared_size = None;
        for param in &params {
            match (param.keyword.as_str(), param.value.as_deref()) {
                ("SIZE", Some(value)) => match value.parse::<u64>() {
                    Ok(size) if size > self.server.config.max_message_size as u64 => {
                        return self.error(Reply::new(
                            552,
                            "5.3.4",
                            "Message size exceeds fixed maximum message size",
                        ));
                    }
                    Ok(size) => declared_size = Some(size as usize),
                    Err(_) => return self.error(Reply::new(501, "5.5.4", "Bad SIZE value")),
                },
                ("BODY", Some(body)) if body.eq_ignore_ascii_case("7BIT") || body.eq_ignore_ascii_case("8BITMIME") => {}
                ("BODY", _) => return self.error(Reply::new(501, "5.5.4", "Unsupported BODY type")),
                (keyword, _) => {
                    let text = format!("Unsupported parameter {keyword}");
                    return self.error(Reply::new(555, "5.5.4", text));
                }
            }
        }
        self.transaction = Some(Transaction {
            from,
            recipients: Vec::new(),
            declared_size,
        });
        self.ok(Reply::new(250, "2.1.0", "Ok"))
    }
}
