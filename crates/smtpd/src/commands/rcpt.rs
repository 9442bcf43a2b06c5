//! RCPT TO, RFC 5321 §4.1.1.3: one policy decision per recipient.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{Param, RcptPath, Recipient, Reply};

use crate::backend::{Backend, RcptVerdict};
use crate::error::{Error, Handled};
use crate::params::rcpt_params;
use crate::session::Session;

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn rcpt(&mut self, to: RcptPath, params: Vec<Param>) -> Handled {
        let Some(transaction) = &mut self.transaction else {
            return Err(Error::refused(503, "5.5.1", "Need MAIL before RCPT"));
        };
        if transaction.content.is_some() {
            return Err(Error::refused(503, "5.5.1", "RCPT is not allowed after BDAT"));
        }
        if transaction.recipients.len() >= self.config.max_recipients {
            // RFC 5321 §4.5.3.1.10: the client sends the rest in another
            // transaction, so this is not counted as an error; logged here
            // as it does not pass through the refusals' log, once per
            // transaction.
            if !transaction.over_limit {
                tracing::info!(
                    max = self.config.max_recipients,
                    "recipient refused: too many recipients"
                );
                transaction.over_limit = true;
            }
            return Ok(self.ok(Reply::new(452, "4.5.3", "Too many recipients")));
        }
        let smtputf8 = transaction.params.smtputf8;
        let params = rcpt_params(&params, self.may_request_dsn())?;
        let shown = match &to {
            RcptPath::Postmaster => "Postmaster".to_string(),
            RcptPath::Mailbox(mailbox) if !mailbox.is_ascii() && !smtputf8 => {
                return Err(Error::refused(
                    553,
                    "5.6.7",
                    "Non-ASCII addresses need the SMTPUTF8 parameter",
                ));
            }
            RcptPath::Mailbox(mailbox) => mailbox.to_string(),
        };
        match self.server.backend.check_recipient(&to, self.may_relay()).await? {
            RcptVerdict::Accept(address) => {
                if let Some(user) = &self.authenticated
                    && !self
                        .rate_allows(&self.server.rates.user_recipients, "user_recipients", user, 1)
                        .await
                {
                    tracing::info!(%user, "user over the hourly recipient limit");
                    return Err(Error::Logged(Reply::new(
                        451,
                        "4.7.1",
                        "Too many recipients from this user in the last hour; try again later",
                    )));
                }
                if let (Some(client), Some(transaction)) = (self.checked_client(), &self.transaction) {
                    let from = transaction.from.clone();
                    if let Err(reply) = self.server.backend.check_delivery(client, &from, &address).await {
                        tracing::info!(%from, to = %address, code = reply.code, "recipient deferred by the checks");
                        metrics::SMTP_REFUSED.inc("greylisted");
                        return Err(Error::Logged(reply));
                    }
                }
                // SIZE= (RFC 1870) tells a message too large for the
                // quota before its data is sent.
                let size = self.transaction.as_ref().and_then(|t| t.params.size).unwrap_or(0);
                if let Err(reply) = self.server.backend.check_quota(&address, size).await {
                    tracing::info!(to = %address, code = reply.code, "recipient refused: over quota");
                    metrics::SMTP_REFUSED.inc("quota");
                    return Err(Error::Logged(reply));
                }
                if let Some(transaction) = &mut self.transaction
                    && !transaction.recipients.iter().any(|r| r.address == address)
                {
                    transaction.recipients.push(Recipient {
                        address,
                        notify: params.notify,
                        orcpt: params.orcpt,
                    });
                }
                Ok(self.ok(Reply::new(250, "2.1.5", "Ok")))
            }
            RcptVerdict::UnknownUser => {
                // Logged, as relay denials are: "why did my mail bounce"
                // starts in the log.
                tracing::info!(to = %shown, "recipient refused: no such user");
                metrics::SMTP_REFUSED.inc("unknown_recipient");
                Err(Error::Logged(Reply::new(
                    550,
                    "5.1.1",
                    format!("<{shown}>: Recipient address rejected: User unknown"),
                )))
            }
            RcptVerdict::RelayDenied => {
                tracing::info!(to = %shown, "relay denied");
                metrics::SMTP_REFUSED.inc("relay_denied");
                Err(Error::Logged(Reply::new(
                    554,
                    "5.7.1",
                    format!("<{shown}>: Relay access denied"),
                )))
            }
        }
    }
}
