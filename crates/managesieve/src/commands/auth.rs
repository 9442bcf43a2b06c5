//! AUTHENTICATE with SASL PLAIN (RFC 4616) and LOGIN (RFC 5804 §2.1),
//! and STARTTLS (§2.2). Logins go through the `auth` crate's throttle,
//! shared with the other protocols.

use auth::LoginOutcome;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::codec::{self, ParseError, Token};
use crate::error::{Error, Handled};
use crate::response::{self, Status, string};
use crate::session::{Flow, Session, State, User};

/// Mechanisms this server knows and refuses as too weak for its policy
/// (RFC 5804 §1.3 AUTH-TOO-WEAK): they need the password kept in a form
/// the store does not keep, or log in without one.
const TOO_WEAK: [&str; 3] = ["ANONYMOUS", "CRAM-MD5", "DIGEST-MD5"];

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub(crate) fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.config.allow_cleartext_auth
    }

    /// RFC 5804 §2.1: `AUTHENTICATE "mechanism" ["initial response"]`.
    pub(crate) async fn authenticate(&mut self, state: &mut State, args: Vec<Token>) -> Handled {
        let mut args = args.into_iter();
        let mechanism = match args.next() {
            Some(Token::String(s)) => String::from_utf8_lossy(&s).to_ascii_uppercase(),
            Some(Token::Atom(s)) => s.to_ascii_uppercase(),
            _ => return Err(Error::plain("AUTHENTICATE needs a mechanism name")),
        };
        let initial = match args.next() {
            None => None,
            Some(Token::String(s)) => Some(s),
            Some(_) => return Err(Error::plain("The initial response must be a string")),
        };
        if args.next().is_some() {
            return Err(Error::plain("AUTHENTICATE takes a mechanism and an initial response"));
        }
        if TOO_WEAK.contains(&mechanism.as_str()) {
            return Err(Error::coded(
                "AUTH-TOO-WEAK",
                "That mechanism is not allowed here; use PLAIN",
            ));
        }
        if !matches!(mechanism.as_str(), "PLAIN" | "LOGIN") {
            return Err(Error::plain("Unsupported authentication mechanism"));
        }
        if !self.auth_allowed() {
            return Err(Error::coded(
                "ENCRYPT-NEEDED",
                "Passwords are accepted only over TLS; use STARTTLS first",
            ));
        }
        let (name, password) = match mechanism.as_str() {
            "PLAIN" => self.plain(initial).await?,
            _ => self.login_mechanism(initial).await?,
        };
        self.login(state, &name, password).await
    }

    /// PLAIN: the response, from the initial one or after an empty
    /// challenge.
    async fn plain(&mut self, initial: Option<Vec<u8>>) -> Result<(String, String), Error> {
        let response = match initial {
            Some(response) => response,
            None => self.challenge(b"").await?,
        };
        let text = String::from_utf8(response).map_err(|_| Error::plain("The response is not base64"))?;
        let credentials =
            auth::sasl::decode_plain(&text).map_err(|e| Error::plain(format!("Authentication failed: {e}")))?;
        if !credentials.authzid.is_empty() && credentials.authzid != credentials.authcid {
            return Err(Error::plain("Acting as another user is not permitted"));
        }
        Ok((credentials.authcid, credentials.password))
    }

    /// LOGIN: the user name (perhaps the initial response) and the
    /// password, each asked for in base64 and answered in base64.
    async fn login_mechanism(&mut self, initial: Option<Vec<u8>>) -> Result<(String, String), Error> {
        let name = match initial {
            Some(name) => name,
            None => self.challenge(b"Username:").await?,
        };
        let name = decode(&name)?;
        let password = self.challenge(b"Password:").await?;
        Ok((name, decode(&password)?))
    }

    /// Sends a SASL challenge (a base64 string on its own line) and reads
    /// the client's answer: one string, `"*"` cancelling (§2.1).
    async fn challenge(&mut self, challenge: &[u8]) -> Result<Vec<u8>, Error> {
        string(self.conn.output(), STANDARD.encode(challenge).as_bytes());
        self.conn.send(b"\r\n");
        let limits = self.limits(&State::NotAuthenticated);
        loop {
            match codec::parse(self.conn.buffered(), limits) {
                Ok((tokens, used)) => {
                    self.conn.consume(used);
                    return match tokens.as_slice() {
                        // A bare `*` too, which some clients send unquoted.
                        [Token::String(s)] if s == b"*" => Err(Error::plain("Authentication cancelled")),
                        [Token::Atom(a)] if a == "*" => Err(Error::plain("Authentication cancelled")),
                        [Token::String(s)] => Ok(s.clone()),
                        _ => Err(Error::plain("Expected a string answering the challenge")),
                    };
                }
                Err(ParseError::Incomplete) => self.read_more().await?,
                Err(ParseError::Invalid { consumed, reason }) => {
                    self.conn.consume(consumed);
                    return Err(Error::plain(reason));
                }
                // Too long for any answer: no use reading on.
                Err(ParseError::LineTooLong | ParseError::LiteralTooLarge { .. }) => {
                    response::status(self.conn.output(), Status::Bye, None, "SASL response too long");
                    self.conn.close().await;
                    return Err(Error::Disconnect);
                }
            }
        }
    }

    /// Checks the password and enters the authenticated state. Unknown
    /// users and wrong passwords get the same answer after the same work,
    /// so neither reveals which users exist.
    async fn login(&mut self, state: &mut State, name: &str, password: String) -> Handled {
        let lookup = crate::Scripts::account(&self.server.store, name);
        let peer = self.peer.ip();
        let login = auth::login(
            "managesieve",
            &self.server.throttle,
            peer,
            name,
            password,
            lookup,
            |a| (a.address.as_str(), a.password_hash.as_str()),
        );
        let account = match login.await {
            LoginOutcome::LoggedIn(account) => account,
            LoginOutcome::Unavailable(_) => {
                return Err(Error::coded("TRYLATER", "Temporary failure, try again later"));
            }
            LoginOutcome::LockedOut(_) => {
                return Err(Error::coded("TRYLATER", "Too many failed logins, try again later"));
            }
            LoginOutcome::Failed { delay } => {
                if self.conn.flush().await.is_ok() {
                    tokio::time::sleep(delay).await;
                }
                return Err(Error::plain("Authentication failed"));
            }
        };
        tracing::info!(user = %account.address, "logged in");
        *state = State::Authenticated(User {
            id: account.id,
            address: account.address,
        });
        self.conn.set_timeout(self.config.timeout);
        Ok(self.ok(None, "Logged in"))
    }

    /// RFC 5804 §2.2: OK, the handshake, then the capabilities again.
    pub(crate) async fn starttls(&mut self, state: &mut State, args: Vec<Token>) -> Handled {
        crate::session::no_arguments(&args)?;
        let Some(acceptor) = self.server.tls.clone() else {
            return Err(Error::plain("STARTTLS is not available"));
        };
        if self.conn.is_tls() {
            return Err(Error::plain("TLS is already active"));
        }
        if !self.conn.buffered().is_empty() {
            // Cleartext commands pipelined behind STARTTLS must never run as
            // if they had come over TLS (the STARTTLS injection class).
            response::status(
                self.conn.output(),
                Status::Bye,
                None,
                "Commands after STARTTLS must wait for its reply",
            );
            return Ok(Flow::Close);
        }
        self.ok(None, "Begin TLS negotiation");
        if let Err(e) = self.conn.start_tls(&acceptor).await {
            tracing::info!(error = %e, "TLS handshake failed");
            return Err(Error::Disconnect);
        }
        *state = State::NotAuthenticated;
        Ok(self.capability(state))
    }
}

/// A base64 LOGIN answer as text.
fn decode(answer: &[u8]) -> Result<String, Error> {
    STANDARD
        .decode(answer)
        .ok()
        .and_then(|octets| String::from_utf8(octets).ok())
        .ok_or_else(|| Error::plain("The response is not base64 of UTF-8 text"))
}
