//! RCPT TO, RFC 5321 §4.1.1.3: one policy decision per recipient.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{Param, RcptPath, Recipient, Reply};

use crate::backend::{Backend, RcptVerdict};
use crate::params::rcpt_params;
use crate::session::{Flow, Session};

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn rcpt(&mut self, to: RcptPath, params: Vec<Param>) -> Flow {
        let Some(transaction) = &self.transaction else {
            return self.error(Reply::new(503, "5.5.1", "Need MAIL before RCPT"));
        };
        if transaction.content.is_some() {
            return self.error(Reply::new(503, "5.5.1", "RCPT is not allowed after BDAT"));
        }
        if transaction.recipients.len() >= self.server.config.max_recipients {
            // RFC 5321 §4.5.3.1.10: the client sends the rest in another transaction.
            return self.ok(Reply::new(452, "4.5.3", "Too many recipients"));
        }
        let smtputf8 = transaction.params.smtputf8;
        let params = match rcpt_params(&params, self.may_request_dsn()) {
            Ok(params) => params,
            Err(reply) => return self.error(reply),
        };
        let shown = match &to {
            RcptPath::Postmaster => "Postmaster".to_string(),
            RcptPath::Mailbox(mailbox) if !mailbox.is_ascii() && !smtputf8 => {
                return self.error(Reply::new(
                    553,
                    "5.6.7",
                    "Non-ASCII addresses need the SMTPUTF8 parameter",
                ));
            }
            RcptPath::Mailbox(mailbox) => mailbox.to_string(),
        };
        match self.server.backend.check_recipient(&to, self.may_relay()).await {
            Ok(RcptVerdict::Accept(address)) => {
                if let Some(transaction) = &mut self.transaction
                    && !transaction.recipients.iter().any(|r| r.address == address)
                {
                    transaction.recipients.push(Recipient {
                        address,
                        notify: params.notify,
                        orcpt: params.orcpt,
                    });
                }
                self.ok(Reply::new(250, "2.1.5", "Ok"))
            }
            Ok(RcptVerdict::UnknownUser) => self.error(Reply::new(
                550,
                "5.1.1",
                format!("<{shown}>: Recipient address rejected: User unknown"),
            )),
            Ok(RcptVerdict::RelayDenied) => {
                tracing::info!(to = %shown, "relay denied");
                self.error(Reply::new(554, "5.7.1", format!("<{shown}>: Relay access denied")))
            }
            Err(e) => {
                tracing::error!(error = %e, "recipient lookup failed");
                self.ok(Reply::new(451, "4.3.0", "Temporary lookup failure, try again later"))
            }
        }
    }
}
