//! STARTTLS, LOGIN, AUTHENTICATE PLAIN (with SASL-IR, RFC 4959) and ENABLE.

use tokio::io::{AsyncRead, AsyncWrite};
use wire::line::{LineTooLong, find_line, strip_eol};

use crate::error::{CommandError, Reply};
use crate::session::{Disconnect, Flow, Session, State};
use crate::view::View;

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) async fn starttls(&mut self, tag: &str) -> Reply {
        let Some(acceptor) = self.server.tls.clone() else {
            return Err(CommandError::bad("STARTTLS is not available"));
        };
        if self.conn.is_tls() {
            return Err(CommandError::bad("TLS is already active"));
        }
        if self.conn.is_compressed() {
            // RFC 4978 §3: TLS goes below COMPRESS, never above it.
            return Err(CommandError::bad("STARTTLS must come before COMPRESS"));
        }
        if !self.conn.buffered().is_empty() {
            // Cleartext commands pipelined behind STARTTLS must never run
            // as if they came over TLS.
            self.untagged("BYE Commands after STARTTLS must wait for its reply");
            return Ok(Flow::Close);
        }
        self.tagged(tag, "OK", None, "Begin TLS negotiation now");
        if let Err(e) = self.conn.start_tls(&acceptor).await {
            tracing::info!(error = %e, "TLS handshake failed");
            return Err(CommandError::Disconnect);
        }
        Ok(Flow::Continue)
    }

    pub(crate) async fn login(&mut self, tag: &str, user: &str, password: String) -> Reply {
        if !self.auth_allowed() {
            // RFC 9051 §6.2.3: LOGINDISABLED.
            return Err(CommandError::no("PRIVACYREQUIRED", "Use STARTTLS before logging in"));
        }
        self.verify(tag, user, password).await
    }

    pub(crate) async fn authenticate(&mut self, tag: &str, mechanism: &str, initial: Option<Vec<u8>>) -> Reply {
        if mechanism != "PLAIN" {
            return Err(CommandError::refused("Unsupported authentication mechanism"));
        }
        if !self.auth_allowed() {
            return Err(CommandError::no("PRIVACYREQUIRED", "Use STARTTLS before logging in"));
        }
        let response = match initial {
            // RFC 4959: "=" is an empty initial response.
            Some(response) if response == b"=" => Vec::new(),
            Some(response) => response,
            None => {
                self.conn.send(b"+ \r\n");
                match self.read_line().await? {
                    Some(line) => line,
                    None => return Err(CommandError::bad("Response too long")),
                }
            }
        };
        if response == b"*" {
            return Err(CommandError::bad("Authentication cancelled"));
        }
        let credentials = match auth::sasl::decode_plain(&String::from_utf8_lossy(&response)) {
            Ok(credentials) => credentials,
            Err(e) => return Err(CommandError::bad(format!("Invalid response: {e}"))),
        };
        if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
            return Err(CommandError::no(
                "AUTHORIZATIONFAILED",
                "Acting as another user is not permitted",
            ));
        }
        self.verify(tag, &credentials.authcid, credentials.password).await
    }

    /// One response line of a SASL exchange; `None` if it was too long.
    async fn read_line(&mut self) -> Result<Option<Vec<u8>>, Disconnect> {
        loop {
            match find_line(self.conn.buffered(), 16 * 1024) {
                Ok(Some(n)) => {
                    let line = strip_eol(&self.conn.buffered()[..n]).to_vec();
                    self.conn.consume(n);
                    return Ok(Some(line));
                }
                Ok(None) => self.read_more().await?,
                Err(LineTooLong) => {
                    self.conn.skip_line().await.map_err(|_| Disconnect)?;
                    return Ok(None);
                }
            }
        }
    }

    /// Checks a password through the shared throttle and logs in.
    async fn verify(&mut self, tag: &str, user: &str, password: String) -> Reply {
        let lookup = self.server.store.find_account(user);
        let login = auth::login(
            "imap",
            &self.server.throttle,
            self.peer.ip(),
            user,
            password,
            lookup,
            |a| (a.address.as_str(), a.password_hash.as_str()),
        );
        let account = match login.await {
            auth::LoginOutcome::LoggedIn(account) => account,
            auth::LoginOutcome::Unavailable(_) => {
                return Err(CommandError::no("UNAVAILABLE", "Temporary failure, try again later"));
            }
            auth::LoginOutcome::LockedOut(_) => {
                return Err(CommandError::no(
                    "UNAVAILABLE",
                    "Too many failed logins, try again later",
                ));
            }
            auth::LoginOutcome::Failed { delay } => {
                self.conn.flush().await.map_err(|_| Disconnect)?;
                tokio::time::sleep(delay).await;
                return Err(CommandError::no("AUTHENTICATIONFAILED", "Authentication failed"));
            }
        };
        let Some(slot) = self.server.user_slot(account.id) else {
            tracing::info!(user = %account.address, "too many sessions for this user");
            return Err(CommandError::no(
                "LIMIT",
                "Too many sessions for this user; close some first",
            ));
        };
        self.user_slot = Some(slot);
        tracing::info!(user = %account.address, "logged in");
        self.changes = Some(self.server.store.changes());
        self.state = State::Authenticated { account };
        self.conn.set_timeout(self.config.timeout);
        let capabilities = self.capabilities();
        self.tagged(tag, "OK", Some(&format!("CAPABILITY {capabilities}")), "Logged in");
        Ok(Flow::Continue)
    }

    /// ENABLE (RFC 5161): IMAP4rev2, UTF8=ACCEPT (RFC 6855), CONDSTORE
    /// and QRESYNC, which implies CONDSTORE (RFC 7162 §3.2.3), and UIDONLY
    /// (RFC 9586).
    pub(crate) fn enable(&mut self, tag: &str, capabilities: &[String], view: Option<&View>) -> Reply {
        let mut enabled = Vec::new();
        for capability in capabilities {
            match capability.as_str() {
                "IMAP4REV2" => {
                    self.rev2 = true;
                    self.utf8 = true;
                    enabled.push("IMAP4rev2");
                }
                "UTF8=ACCEPT" => {
                    self.utf8 = true;
                    enabled.push("UTF8=ACCEPT");
                }
                "CONDSTORE" => {
                    self.enable_condstore(view);
                    enabled.push("CONDSTORE");
                }
                "QRESYNC" => {
                    self.enable_condstore(view);
                    self.ext.qresync = true;
                    enabled.push("QRESYNC");
                }
                // RFC 9586 §3.1.
                "UIDONLY" => {
                    self.ext.uidonly = true;
                    enabled.push("UIDONLY");
                }
                _ => {}
            }
        }
        self.untagged(format!("ENABLED {}", enabled.join(" ")).trim_end());
        self.ok(tag, "ENABLE completed")
    }
}
