//! One ManageSieve session: the non-authenticated and authenticated
//! states of RFC 5804 §1.4 (after a login the client works on its own
//! scripts), the command loop and the limits common to every command.

use std::net::SocketAddr;
use std::sync::Arc;

use net::Connection;
use store::AccountId;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::codec::{self, Limits, ParseError, Token};
use crate::error::{Error, Handled};
use crate::response::{self, Status};
use crate::server::Server;

pub(crate) use net::{Disconnect, Flow, Outcome};

/// RFC 5804 §1.4: before and after AUTHENTICATE.
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(User),
}

/// The account a session logged in to.
pub(crate) struct User {
    pub id: AccountId,
    pub address: String,
}

/// Said to a client that stayed silent too long, before hanging up
/// (RFC 5804 §1.2: BYE, then the server closes).
const AUTOLOGOUT: &[u8] = b"BYE \"Idle for too long\"\r\n";

/// One connection's session. Its [`State`] lives in [`Session::run`] and
/// is lent to the command handlers.
pub(crate) struct Session<S> {
    pub conn: Connection<S>,
    pub server: Arc<Server>,
    /// The server's settings when this session began: a reload changes
    /// later sessions, not this one (see `net::Live`).
    pub config: Arc<crate::ManageSieveConfig>,
    pub peer: SocketAddr,
    errors: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub fn new(conn: Connection<S>, server: Arc<Server>, peer: SocketAddr) -> Self {
        Session {
            conn,
            config: server.config.get(),
            server,
            peer,
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        // RFC 5804 §1.7: the greeting is the capability list.
        let mut state = State::NotAuthenticated;
        self.capability(&state);
        loop {
            let outcome = match codec::parse(self.conn.buffered(), self.limits(&state)) {
                Ok((tokens, used)) => {
                    self.conn.consume(used);
                    self.handle(&mut state, tokens).await
                }
                // Between commands: where a stop ends the session.
                Err(ParseError::Incomplete) => self.conn.read_command(AUTOLOGOUT).await.map(|()| Flow::Continue),
                Err(ParseError::LineTooLong) => self.discard_long_line().await,
                Err(ParseError::Invalid { consumed, reason }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(None, reason))
                }
                Err(ParseError::LiteralTooLarge { header_end, size }) => {
                    self.refuse_literal(&state, header_end, size).await
                }
            };
            if !self.conn.proceed(outcome).await {
                return;
            }
        }
    }

    /// What one command may hold: before login a literal is no longer
    /// than a line (a SASL response); after, as large as a script the
    /// account may store.
    pub fn limits(&self, state: &State) -> Limits {
        Limits {
            line: self.config.max_line_length,
            literal: match state {
                State::NotAuthenticated => self.config.max_line_length,
                State::Authenticated(_) => self.config.limits.max_size,
            },
        }
    }

    /// Runs one command in the state it came in, and answers a failed one.
    async fn handle(&mut self, state: &mut State, tokens: Vec<Token>) -> Outcome {
        let mut tokens = tokens.into_iter();
        let handled = match tokens.next() {
            Some(Token::Atom(name)) => {
                let args: Vec<Token> = tokens.collect();
                self.dispatch(state, &name.to_ascii_uppercase(), args).await
            }
            _ => Err(Error::plain("Expected a command name")),
        };
        match handled {
            Ok(flow) => Ok(flow),
            Err(Error::Refused { code, text }) => Ok(self.error(code.as_deref(), &text)),
            Err(Error::Store { text, source }) => {
                tracing::error!(error = %source, "{text}");
                Ok(self.error(Some("TRYLATER"), text))
            }
            Err(Error::Disconnect) => Err(Disconnect),
        }
    }

    /// The commands of RFC 5804 §2, each in the states it is valid in.
    async fn dispatch(&mut self, state: &mut State, name: &str, args: Vec<Token>) -> Handled {
        match (name, &*state) {
            ("CAPABILITY", _) => {
                no_arguments(&args)?;
                Ok(self.capability(state))
            }
            ("LOGOUT", _) => {
                no_arguments(&args)?;
                self.ok(None, "Logout complete");
                Ok(Flow::Close)
            }
            ("NOOP", _) => self.noop(args),
            ("STARTTLS", State::NotAuthenticated) => self.starttls(state, args).await,
            ("AUTHENTICATE", State::NotAuthenticated) => self.authenticate(state, args).await,
            ("STARTTLS" | "AUTHENTICATE", State::Authenticated(_)) => Err(Error::plain("Already authenticated")),
            ("UNAUTHENTICATE", State::Authenticated(_)) => {
                no_arguments(&args)?;
                *state = State::NotAuthenticated;
                self.conn.set_timeout(self.config.login_timeout);
                Ok(self.ok(None, "Logged out; authenticate again"))
            }
            ("UNAUTHENTICATE", State::NotAuthenticated) => Err(Error::plain("Not authenticated")),
            (_, State::Authenticated(user)) => {
                let account = user.id;
                self.scripts(account, name, args).await
            }
            (
                "HAVESPACE" | "PUTSCRIPT" | "LISTSCRIPTS" | "SETACTIVE" | "GETSCRIPT" | "DELETESCRIPT" | "RENAMESCRIPT"
                | "CHECKSCRIPT",
                State::NotAuthenticated,
            ) => Err(Error::plain("Authenticate first")),
            _ => Err(Error::plain("Unknown command")),
        }
    }

    /// The commands on the account's scripts (RFC 5804 §2.5 to §2.12).
    async fn scripts(&mut self, account: AccountId, name: &str, args: Vec<Token>) -> Handled {
        match name {
            "HAVESPACE" => self.havespace(account, args).await,
            "PUTSCRIPT" => self.putscript(account, args).await,
            "LISTSCRIPTS" => self.listscripts(account, args).await,
            "SETACTIVE" => self.setactive(account, args).await,
            "GETSCRIPT" => self.getscript(account, args).await,
            "DELETESCRIPT" => self.deletescript(account, args).await,
            "RENAMESCRIPT" => self.renamescript(account, args).await,
            "CHECKSCRIPT" => self.checkscript(args),
            _ => Err(Error::plain("Unknown command")),
        }
    }

    /// RFC 5804 §2.13: NOOP, echoing its optional tag in a TAG code.
    fn noop(&mut self, args: Vec<Token>) -> Handled {
        match args.as_slice() {
            [] => Ok(self.ok(None, "Done")),
            [Token::String(tag)] => {
                let code = format!("TAG {}", response::string_text(tag));
                Ok(self.ok(Some(&code), "Done"))
            }
            _ => Err(Error::plain("NOOP takes at most one string")),
        }
    }

    /// Queues `OK (code) "text"`.
    pub fn ok(&mut self, code: Option<&str>, text: &str) -> Flow {
        response::status(self.conn.output(), Status::Ok, code, text);
        Flow::Continue
    }

    /// Queues `NO (code) "text"` and counts the error; too many end the
    /// session with BYE, so a client cannot probe forever.
    pub fn error(&mut self, code: Option<&str>, text: &str) -> Flow {
        response::status(self.conn.output(), Status::No, code, text);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            tracing::info!(errors = self.errors, "too many errors, disconnecting");
            response::status(
                self.conn.output(),
                Status::Bye,
                None,
                "Too many errors, closing connection",
            );
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Waits for more input.
    pub async fn read_more(&mut self) -> Result<(), Disconnect> {
        self.conn.read_more(AUTOLOGOUT).await
    }

    async fn discard_long_line(&mut self) -> Outcome {
        self.skip_command().await?;
        Ok(self.error(None, "Line too long"))
    }

    /// A literal announced larger than allowed (RFC 5804 §2.6: the most an
    /// account may store, QUOTA/MAXSIZE): refused at once, before any of
    /// it is read. The client sends it anyway (a non-synchronising
    /// literal cannot be stopped), so its octets are dropped as they come,
    /// never held, and the command must still end within the timeout.
    async fn refuse_literal(&mut self, state: &State, header_end: usize, size: u64) -> Outcome {
        self.conn.discard(header_end);
        let flow = match state {
            State::Authenticated(_) => {
                let max = self.config.limits.max_size;
                let text = format!("The script is {size} octets; at most {max} may be stored");
                self.error(Some("QUOTA/MAXSIZE"), &text)
            }
            State::NotAuthenticated => self.error(None, "Literal too large; authenticate first"),
        };
        if flow == Flow::Close {
            return Ok(flow);
        }
        self.skip_octets(size).await?;
        // The rest of the command, after its literal.
        self.skip_command().await?;
        Ok(Flow::Continue)
    }

    /// Drops `size` octets of the command under way as they arrive.
    async fn skip_octets(&mut self, size: u64) -> Result<(), Disconnect> {
        let mut left = size;
        loop {
            let here = self
                .conn
                .buffered()
                .len()
                .min(usize::try_from(left).unwrap_or(usize::MAX));
            self.conn.discard(here);
            left -= here as u64;
            if left == 0 {
                return Ok(());
            }
            self.read_more().await?;
        }
    }

    /// Drops the rest of a command refused as it came in, holding no more
    /// of it than one read: through the end of its line and, when that
    /// line ends with a literal's header, through the literal and the line
    /// after it, so that no literal is ever read as commands.
    async fn skip_command(&mut self) -> Result<(), Disconnect> {
        // The end of the line so far: enough to hold a literal's header.
        let mut tail: Vec<u8> = Vec::new();
        loop {
            let buffered = self.conn.buffered();
            let newline = buffered.iter().position(|&b| b == b'\n');
            let taken = newline.unwrap_or(buffered.len());
            tail.extend_from_slice(&buffered[..taken]);
            tail.drain(..tail.len().saturating_sub(TAIL));
            let Some(newline) = newline else {
                self.conn.discard(taken);
                self.read_more().await?;
                continue;
            };
            self.conn.discard(newline + 1);
            match codec::announced(tail.strip_suffix(b"\r").unwrap_or(&tail)) {
                Some(size) => {
                    self.skip_octets(size).await?;
                    tail.clear();
                }
                None => {
                    // The command has ended: the next one gets its own time.
                    self.conn.consume(0);
                    return Ok(());
                }
            }
        }
    }
}

/// The end of a skipped line kept to find a literal's header there: `{`,
/// twenty digits, `+}` and CR.
const TAIL: usize = 32;

/// Refuses arguments to a command that takes none.
pub(crate) fn no_arguments(args: &[Token]) -> Result<(), Error> {
    match args.is_empty() {
        true => Ok(()),
        false => Err(Error::plain("This command takes no arguments")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The farewell is written out by hand for `net`; it must read as
    /// every other status line does.
    #[test]
    fn farewells_are_status_lines() {
        let mut encoded = Vec::new();
        response::status(&mut encoded, Status::Bye, None, "Idle for too long");
        assert_eq!(AUTOLOGOUT, encoded.as_slice());
        let mut busy = Vec::new();
        response::status(&mut busy, Status::Bye, Some("TRYLATER"), "Too many connections");
        assert_eq!(<Server as net::Service>::BUSY_REPLY, busy.as_slice());
    }
}
