//! The AUTHORIZATION state: USER/PASS (RFC 1939 §7), AUTH PLAIN (RFC 5034)
//! and STLS (RFC 2595 §4).

use auth::LoginOutcome;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::line::{LineTooLong, find_line, strip_eol};
use wire::pop3::status_line;

use crate::error::{Error, Handled};
use crate::session::{Disconnect, Flow, Maildrop, Session, State};

const CLEARTEXT_REFUSED: &str = "Cleartext authentication is disabled; use STLS first";

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.config.allow_cleartext_auth
    }

    /// Refuses a password over a connection without TLS, unless allowed.
    fn check_auth_allowed(&self) -> Result<(), Error> {
        match self.auth_allowed() {
            true => Ok(()),
            false => Err(Error::coded("AUTH", CLEARTEXT_REFUSED)),
        }
    }

    pub(crate) fn user(&mut self, state: &mut State, name: String) -> Handled {
        self.check_auth_allowed()?;
        *state = State::Authorization { user: Some(name) };
        Ok(self.ok("Send PASS"))
    }

    pub(crate) async fn pass(&mut self, state: &mut State, password: String) -> Handled {
        self.check_auth_allowed()?;
        let State::Authorization { user: Some(user) } = state else {
            return Err(Error::plain("Send USER first"));
        };
        let user = std::mem::take(user);
        *state = State::Authorization { user: None };
        self.login(state, &user, password).await
    }

    pub(crate) async fn authenticate(
        &mut self,
        state: &mut State,
        mechanism: Option<String>,
        initial: Option<String>,
    ) -> Handled {
        self.check_auth_allowed()?;
        match mechanism.as_deref() {
            None => {
                // The mechanism list, as Dovecot and mainstream clients expect.
                self.ok("Supported mechanisms follow");
                self.conn.send(b"PLAIN\r\n.\r\n");
                return Ok(Flow::Continue);
            }
            Some("PLAIN") => {}
            Some(_) => return Err(Error::plain("Unsupported authentication mechanism")),
        }
        let response = match initial {
            // RFC 5034 §4: "=" is an empty initial response.
            Some(response) if response == "=" => String::new(),
            Some(response) => response,
            None => {
                self.conn.send(b"+ \r\n");
                self.read_sasl_line().await?
            }
        };
        if response == "*" {
            return Err(Error::plain("Authentication cancelled"));
        }
        let credentials = auth::sasl::decode_plain(&response)
            .map_err(|e| Error::coded("AUTH", format!("Authentication failed: {e}")))?;
        if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
            return Err(Error::coded("AUTH", "Acting as another user is not permitted"));
        }
        self.login(state, &credentials.authcid, credentials.password).await
    }

    /// Reads one SASL response line, within the command line limit.
    async fn read_sasl_line(&mut self) -> Result<String, Disconnect> {
        loop {
            match find_line(self.conn.buffered(), self.config.max_line_length) {
                Ok(Some(n)) => {
                    let line = String::from_utf8_lossy(strip_eol(&self.conn.buffered()[..n])).into_owned();
                    self.conn.consume(n);
                    return Ok(line);
                }
                Ok(None) => self.read_more().await?,
                Err(LineTooLong) => {
                    status_line(self.conn.output(), false, None, "Line too long");
                    self.conn.close().await;
                    return Err(Disconnect);
                }
            }
        }
    }

    /// Checks the password, locks the maildrop and enters TRANSACTION.
    /// Unknown users and wrong passwords get the same answer after the
    /// same work, so neither reveals which users exist.
    async fn login(&mut self, state: &mut State, address: &str, password: String) -> Handled {
        let lookup = self.server.store.find_account(address);
        let peer = self.peer.ip();
        let login = auth::login("pop3", &self.server.throttle, peer, address, password, lookup, |a| {
            (a.address.as_str(), a.password_hash.as_str())
        });
        let account = match login.await {
            LoginOutcome::LoggedIn(account) => account,
            LoginOutcome::Unavailable(_) => {
                return Err(Error::coded("SYS/TEMP", "Temporary failure, try again later"));
            }
            LoginOutcome::LockedOut(_) => {
                return Err(Error::coded("SYS/TEMP", "Too many failed logins, try again later"));
            }
            LoginOutcome::Failed { delay } => {
                if self.conn.flush().await.is_ok() {
                    tokio::time::sleep(delay).await;
                }
                return Err(Error::coded("AUTH", "Authentication failed"));
            }
        };
        let locked = self.server.locks.try_lock(account.id).await;
        let Some(lock) = locked.map_err(Error::store("Cannot lock the mailbox, try again later"))? else {
            return Err(Error::coded("IN-USE", "Mailbox is locked by another POP3 session"));
        };
        let loaded = async {
            let mailbox = self.server.store.inbox(account.id).await?;
            let messages = self.server.store.message_list(mailbox.id).await?;
            Ok::<_, store::Error>((mailbox, messages))
        };
        let (mailbox, messages) = loaded
            .await
            .map_err(Error::store("Cannot open the mailbox, try again later"))?;
        tracing::info!(user = %account.address, messages = messages.len(), "logged in");
        let count = messages.len();
        *state = State::Transaction(Box::new(Maildrop {
            mailbox,
            deleted: vec![false; count],
            messages,
            _lock: lock,
        }));
        self.conn.set_timeout(self.config.timeout);
        Ok(self.ok(&format!("Logged in, {count} messages")))
    }

    pub(crate) async fn stls(&mut self, state: &mut State) -> Handled {
        let Some(acceptor) = self.server.tls.clone() else {
            return Err(Error::plain("STLS is not available"));
        };
        if self.conn.is_tls() {
            return Err(Error::plain("TLS is already active"));
        }
        if !self.conn.buffered().is_empty() {
            // Cleartext commands pipelined behind STLS must never run as if
            // they had come over TLS (the STARTTLS injection class of bugs).
            status_line(
                self.conn.output(),
                false,
                None,
                "Commands after STLS must wait for its reply",
            );
            return Ok(Flow::Close);
        }
        self.ok("Begin TLS negotiation");
        if let Err(e) = self.conn.start_tls(&acceptor).await {
            tracing::info!(error = %e, "TLS handshake failed");
            return Err(Error::Disconnect);
        }
        *state = State::Authorization { user: None };
        Ok(Flow::Continue)
    }
}
