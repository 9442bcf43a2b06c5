//! AUTH, RFC 4954, with the PLAIN (RFC 4616) and LOGIN mechanisms. Every
//! attempt passes the shared throttle, so guessing is slow on every
//! protocol alike.

use auth::LoginOutcome;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::Reply;

use crate::backend::Backend;
use crate::error::{Error, Handled};
use crate::session::{Disconnect, Session};

/// The credentials a mechanism produced, or the reply that ends it.
type Exchange = Result<(String, String), Reply>;

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub(crate) async fn auth(&mut self, mechanism: String, initial: Option<String>) -> Handled {
        if self.authenticated.is_some() {
            return Err(Error::refused(503, "5.5.1", "Already authenticated"));
        }
        if !self.helo.as_ref().is_some_and(|h| h.extended) {
            return Err(Error::refused(503, "5.5.1", "Send EHLO first"));
        }
        if self.transaction.is_some() {
            return Err(Error::refused(
                503,
                "5.5.1",
                "AUTH is not allowed during a mail transaction",
            ));
        }
        if !self.auth_offered() {
            return Err(Error::refused(538, "5.7.11", "Encryption required; use STARTTLS first"));
        }
        let (name, password) = match mechanism.as_str() {
            "PLAIN" => self.plain(initial).await??,
            "LOGIN" => self.login(initial).await??,
            _ => return Err(Error::refused(504, "5.5.4", "Unrecognized authentication type")),
        };
        let lookup = self.server.backend.login(&name);
        let login = auth::login(
            "smtp",
            &self.server.throttle,
            self.peer.ip(),
            &name,
            password,
            lookup,
            |a| (a.address.as_str(), a.password_hash.as_str()),
        );
        match login.await {
            LoginOutcome::LoggedIn(account) => {
                tracing::info!(user = %account.address, "authenticated");
                self.authenticated = Some(account.address);
                // One of our users: this address need not wait on port 25.
                self.server
                    .remember_client(self.peer.ip(), crate::client_memory::Standing::Passed);
                Ok(self.ok(Reply::new(235, "2.7.0", "Authentication successful")))
            }
            // Logged by auth::login already.
            LoginOutcome::Unavailable(_) => Ok(self.ok(Reply::new(454, "4.7.0", "Temporary authentication failure"))),
            // Both logged by auth::login already.
            LoginOutcome::LockedOut(_) => Err(Error::Logged(Reply::new(
                454,
                "4.7.0",
                "Too many failed authentication attempts, try again later",
            ))),
            LoginOutcome::Failed { delay } => {
                self.conn.flush().await.map_err(|_| Disconnect)?;
                tokio::time::sleep(delay).await;
                Err(Error::Logged(Reply::new(
                    535,
                    "5.7.8",
                    "Authentication credentials invalid",
                )))
            }
        }
    }

    /// PLAIN: one response, `authzid NUL authcid NUL password`.
    async fn plain(&mut self, initial: Option<String>) -> Result<Exchange, Disconnect> {
        let response = match initial {
            Some(response) => response,
            None => match self.challenge("").await? {
                Ok(response) => response,
                Err(reply) => return Ok(Err(reply)),
            },
        };
        // RFC 4954 §4: "=" is an empty initial response.
        let response = if response == "=" { String::new() } else { response };
        Ok(match auth::sasl::decode_plain(&response) {
            Err(_) => Err(Reply::new(501, "5.5.2", "Cannot decode the PLAIN response")),
            Ok(c) if !c.authzid.is_empty() && c.authzid != c.authcid => {
                Err(Reply::new(535, "5.7.8", "Acting as another user is not permitted"))
            }
            Ok(c) => Ok((c.authcid, c.password)),
        })
    }

    /// LOGIN: the user name and the password, each asked for in turn.
    async fn login(&mut self, initial: Option<String>) -> Result<Exchange, Disconnect> {
        let name = match initial {
            Some(name) => Ok(name),
            None => self.challenge("Username:").await?,
        };
        let name = match name.map(|n| decode_text(&n)) {
            Ok(Some(name)) => name,
            Ok(None) => return Ok(Err(Reply::new(501, "5.5.2", "Cannot decode the user name"))),
            Err(reply) => return Ok(Err(reply)),
        };
        let password = match self.challenge("Password:").await?.map(|p| decode_text(&p)) {
            Ok(Some(password)) => password,
            Ok(None) => return Ok(Err(Reply::new(501, "5.5.2", "Cannot decode the password"))),
            Err(reply) => return Ok(Err(reply)),
        };
        Ok(Ok((name, password)))
    }

    /// Sends a 334 challenge and reads the client's response line.
    async fn challenge(&mut self, prompt: &str) -> Result<Result<String, Reply>, Disconnect> {
        self.reply(Reply::plain(334, vec![STANDARD.encode(prompt)]));
        match self.read_line().await? {
            None => Ok(Err(Reply::new(
                500,
                "5.5.6",
                "Authentication exchange line is too long",
            ))),
            Some(line) if line == "*" => Ok(Err(Reply::new(501, "5.7.0", "Authentication cancelled"))),
            Some(line) => Ok(Ok(line)),
        }
    }
}

/// Decodes one base64 SASL response into text.
fn decode_text(response: &str) -> Option<String> {
    STANDARD
        .decode(response.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
}
