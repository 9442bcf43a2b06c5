//! One POP3 session: the AUTHORIZATION and TRANSACTION states of RFC 1939
//! §3, the command loop and the limits common to every command.

use std::net::SocketAddr;
use std::sync::Arc;

use net::Connection;
use store::{MailboxInfo, MessageMeta};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::pop3::{Command, CommandError, parse_command, status_line};

use crate::locks::MaildropLock;
use crate::server::Server;

pub(crate) enum State {
    /// Before login; `user` is the name given by USER, awaiting PASS.
    Authorization {
        user: Option<String>,
    },
    Transaction(Maildrop),
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

/// Said to a client that stayed silent too long, before hanging up.
const AUTOLOGOUT: &[u8] = b"-ERR Autologout; idle for too long\r\n";

pub(crate) struct Session<S> {
    pub conn: Connection<S>,
    pub server: Arc<Server>,
    pub peer: SocketAddr,
    pub state: State,
    errors: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub fn new(conn: Connection<S>, server: Arc<Server>, peer: SocketAddr) -> Self {
        Session {
            conn,
            server,
            peer,
            state: State::Authorization { user: None },
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        self.ok("postamt POP3 server ready");
        loop {
            let outcome = match parse_command(self.conn.buffered(), self.server.config.max_line_length) {
                Ok((command, used)) => {
                    self.conn.consume(used);
                    self.handle(command).await
                }
                Err(CommandError::Incomplete) => self.read_more().await.map(|()| Flow::Continue),
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

    async fn handle(&mut self, command: Command) -> Outcome {
        let authorized = matches!(self.state, State::Transaction(_));
        match command {
            Command::Capa => Ok(self.capa()),
            Command::Noop if authorized => Ok(self.ok("")),
            Command::Quit => self.quit().await,
            Command::User(name) if !authorized => Ok(self.user(name)),
            Command::Pass(password) if !authorized => Ok(self.pass(password).await),
            Command::Auth {
                mechanism,
                initial_response,
            } if !authorized => self.authenticate(mechanism, initial_response).await,
            Command::Stls if !authorized => self.stls().await,
            Command::Stat if authorized => Ok(self.stat()),
            Command::List(n) if authorized => Ok(self.list(n)),
            Command::Uidl(n) if authorized => Ok(self.uidl(n)),
            Command::Retr(n) if authorized => self.retrieve(n, None).await,
            Command::Top(n, lines) if authorized => self.retrieve(n, Some(lines)).await,
            Command::Dele(n) if authorized => Ok(self.dele(n)),
            Command::Rset if authorized => Ok(self.rset()),
            _ => Ok(self.error(None, "Command not valid in this state")),
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
        if self.errors >= self.server.config.max_errors {
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
