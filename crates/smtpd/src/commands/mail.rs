//! MAIL FROM, RFC 5321 §4.1.1.2.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{Param, Reply, ReversePath};

use crate::backend::Backend;
use crate::error::{Error, Handled};
use crate::params::mail_params;

use crate::client_memory::client_key;
use crate::server::Role;
use crate::session::{Session, Transaction};

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn mail(&mut self, from: ReversePath, params: Vec<Param>) -> Handled {
        let Some(helo) = &self.helo else {
            return Err(Error::refused(503, "5.5.1", "Send EHLO or HELO first"));
        };
        if self.transaction.is_some() {
            return Err(Error::refused(503, "5.5.1", "Sender already specified"));
        }
        if !helo.extended && !params.is_empty() {
            return Err(Error::refused(555, "5.5.4", "Parameters need EHLO"));
        }
        if self.role.requires_auth() && self.authenticated.is_none() {
            // RFC 6409 §4.3 and RFC 4954 §6.
            return Err(Error::refused(530, "5.7.0", "Authentication required"));
        }
        let tls = self.conn.is_tls();
        let params = mail_params(&params, self.config.max_message_size, self.may_request_dsn(), tls)?;
        if let ReversePath::Mailbox(mailbox) = &from
            && !mailbox.is_ascii()
            && !params.smtputf8
        {
            // RFC 6531 §3.7.4.1.
            return Err(Error::refused(
                553,
                "5.6.7",
                "Non-ASCII addresses need the SMTPUTF8 parameter",
            ));
        }
        if let Some(user) = &self.authenticated
            && !self.server.backend.may_send_as(user, &from).await?
        {
            tracing::info!(%user, %from, "sender address refused");
            let text = format!("<{from}>: Sender address rejected: not owned by user {user}");
            return Err(Error::Logged(Reply::new(553, "5.7.1", text)));
        }
        self.within_message_rates().await?;
        self.sender_checks = match self.checked_client() {
            Some(client) => Some(self.server.backend.check_sender(client, &from).await.map_err(|reply| {
                metrics::SMTP_REFUSED.inc("auth_checks");
                tracing::info!(%from, code = reply.code, "sender refused by the checks");
                Error::Logged(reply)
            })?),
            None => None,
        };
        self.transaction = Some(Transaction {
            from,
            params,
            recipients: Vec::new(),
            content: None,
            over_limit: false,
        });
        Ok(self.ok(Reply::new(250, "2.1.0", "Ok")))
    }

    /// One more message for the user's hourly limit, or for the client
    /// address's per minute on port 25 (trusted networks are not counted).
    async fn within_message_rates(&self) -> Result<(), Error> {
        let rates = &self.server.rates;
        if let Some(user) = &self.authenticated {
            if !self.rate_allows(&rates.user_messages, "user_messages", user, 1).await {
                tracing::info!(%user, "user over the hourly message limit");
                return Err(Error::Logged(Reply::new(
                    451,
                    "4.7.1",
                    "Too many messages from this user in the last hour; try again later",
                )));
            }
        } else if self.role == Role::Mx
            && !self.may_relay()
            && !self
                .rate_allows(
                    &rates.client_messages,
                    "client_messages",
                    &client_key(self.peer.ip()),
                    1,
                )
                .await
        {
            tracing::info!("client over its message rate");
            return Err(Error::Logged(Reply::new(
                451,
                "4.7.1",
                "Too many messages from your address; try again later",
            )));
        }
        Ok(())
    }
}
