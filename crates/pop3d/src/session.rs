//! One POP3 session: the AUTHORIZATION and TRANSACTION states of RFC 1939
//! §3, the command loop and the limits common to every command.

use std::net::SocketAddr;
use std::sync::Arc;

use net::Connection;
use store::{MailboxInfo, MessageMeta};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::pop3::{Command, CommandError, parse_command, status_line};

use crate::error::{Error, Handled};
use crate::locks::MaildropLock;
use crate::server::Server;

pub(crate) enum State {
    /// Before login; `user` is the name given by USER, awaiting PASS.
    Authorization {
        user: Option<String>,
    },
    Transaction(Box<Maildrop>),
}

/// The maildrop as it was at login (RFC 1939 §4: numbers stay fixed for
/// the session), with the deletion marks.
pub(crate) struct Maildrop {
    pub mailbox: MailboxInfo,
    pub messages: Vec<MessageMeta>,
    pub deleted: Vec<bool>,
    pub _lock: MaildropLock,
}

impl Maildrop {
    /// The message numbered `n` (1-based) unless it is marked deleted.
    pub fn get(&self, n: u32) -> Option<&MessageMeta> {
        let index = (n as usize).checked_sub(1)?;
        match self.deleted.get(index) {
            Some(false) => self.messages.get(index),
            _ => None,
        }
    }

    /// Numbers and entries of the messages not marked deleted.
    pub fn live(&self) -> impl Iterator<Item = (usize, &MessageMeta)> {
        self.messages
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.deleted[*i])
            .map(|(i, m)| (i + 1, m))
    }
}

pub(crate) use net::{Disconnect, Flow, Outcome};

/// The answer to a command the state does not allow.
const NOT_VALID: &str = "Command not valid in this state";

/// Said to a client that stayed silent too long, before hanging up.
const AUTOLOGOUT: &[u8] = b"-ERR Autologout; idle for too long\r\n";

/// One connection's session. Its [`State`] lives in [`Session::run`] and
/// is lent to the command handlers, so a handler of the TRANSACTION state
/// receives the maildrop itself rather than looking for it again.
pub(crate) struct Session<S> {
    pub conn: Connection<S>,
    pub server: Arc<Server>,
    /// The server's settings when this session began: a reload changes
    /// later sessions, not this one (see `net::Live`).
    pub config: Arc<crate::Pop3Config>,
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
        self.ok("postamt POP3 server ready");
        let mut state = State::Authorization { user: None };
        loop {
            let outcome = match parse_command(self.conn.buffered(), self.config.max_line_length) {
                Ok((command, used)) => {
                    self.conn.consume(used);
                    self.handle(&mut state, command).await
                }
                // Between commands: where a stop ends the session.
                Err(CommandError::Incomplete) => self.conn.read_command(AUTOLOGOUT).await.map(|()| Flow::Continue),
                Err(CommandError::LineTooLong) => self.discard_long_line().await,
                Err(CommandError::Invalid { consumed, reason }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(None, reason))
                }
            };
            if !self.conn.proceed(outcome).await {
                return;
            }
        }
    }

    /// Runs one command in the state it came in, and answers a failed one.
    async fn handle(&mut self, state: &mut State, command: Command) -> Outcome {
        let handled = match state {
            State::Transaction(maildrop) => self.transaction(maildrop, command).await,
            State::Authorization { .. } => self.authorization(state, command).await,
        };
        match handled {
            Ok(flow) => Ok(flow),
            Err(Error::Refused { code, text }) => Ok(self.error(code, &text)),
            Err(Error::Store { text, source }) => {
                tracing::error!(error = %source, "{text}");
                Ok(self.error(Some("SYS/TEMP"), text))
            }
            Err(Error::Disconnect) => Err(Disconnect),
        }
    }

    /// The commands of the AUTHORIZATION state (RFC 1939 §4).
    async fn authorization(&mut self, state: &mut State, command: Command) -> Handled {
        match command {
            Command::Capa => Ok(self.capa(true)),
            Command::Quit => Ok(self.quit(None).await),
            Command::User(name) => self.user(state, name),
            Command::Pass(password) => self.pass(state, password).await,
            Command::Auth {
                mechanism,
                initial_response,
            } => self.authenticate(state, mechanism, initial_response).await,
            Command::Stls => self.stls(state).await,
            _ => Err(Error::plain(NOT_VALID)),
        }
    }

    /// The commands of the TRANSACTION state (RFC 1939 §5).
    async fn transaction(&mut self, maildrop: &mut Maildrop, command: Command) -> Handled {
        match command {
            Command::Capa => Ok(self.capa(false)),
            Command::Noop => Ok(self.ok("")),
            Command::Quit => Ok(self.quit(Some(maildrop)).await),
            Command::Stat => Ok(self.stat(maildrop)),
            Command::List(n) => self.list(maildrop, n),
            Command::Uidl(n) => self.uidl(maildrop, n),
            Command::Retr(n) => self.retrieve(maildrop, n, None).await,
            Command::Top(n, lines) => self.retrieve(maildrop, n, Some(lines)).await,
            Command::Dele(n) => self.dele(maildrop, n),
            Command::Rset => Ok(self.rset(maildrop)),
            _ => Err(Error::plain(NOT_VALID)),
        }
    }

    /// Queues `+OK text`.
    pub fn ok(&mut self, text: &str) -> Flow {
        status_line(self.conn.output(), true, None, text);
        Flow::Continue
    }

    /// Queues `-ERR [code] text` and counts the error; too many end the
    /// session, so a client cannot probe forever.
    pub fn error(&mut self, code: Option<&str>, text: &str) -> Flow {
        status_line(self.conn.output(), false, code, text);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            tracing::info!(errors = self.errors, "too many errors, disconnecting");
            status_line(self.conn.output(), false, None, "Too many errors, closing connection");
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Waits for input.
    pub async fn read_more(&mut self) -> Result<(), Disconnect> {
        self.conn.read_more(AUTOLOGOUT).await
    }

    async fn discard_long_line(&mut self) -> Outcome {
        self.conn.skip_long_line(AUTOLOGOUT).await?;
        Ok(self.error(None, "Line too long"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The farewell is written out by hand for `net`; it must read as
    /// every other status line does.
    #[test]
    fn autologout_is_a_status_line() {
        let mut encoded = Vec::new();
        status_line(&mut encoded, false, None, "Autologout; idle for too long");
        assert_eq!(AUTOLOGOUT, encoded.as_slice());
    }
}
