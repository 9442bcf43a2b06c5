//! One SMTP session: the command loop, the session state and the handling
//! of errors, limits and timeouts common to every command.

use std::net::SocketAddr;
use std::sync::Arc;

use net::{Connection, ReadError};
use tokio::io::{AsyncRead, AsyncWrite};
use wire::smtp::{Command, CommandError, Reply, ReversePath, parse_command};

use crate::backend::Backend;
use crate::server::Server;

/// What the client told us in EHLO/HELO.
pub(crate) struct Helo {
    pub name: String,
    /// EHLO (true) or HELO: ESMTP parameters are only for EHLO clients.
    pub extended: bool,
}

/// A mail transaction, from MAIL FROM to the end of DATA.
pub(crate) struct Transaction {
    pub from: ReversePath,
    pub recipients: Vec<String>,
    /// The SIZE the client declared, to size the buffer.
    pub declared_size: Option<usize>,
}

/// Whether the session goes on after a command.
pub(crate) enum Flow {
    Continue,
    Close,
}

/// The connection failed or timed out; the session ends.
pub(crate) struct Disconnect;

pub(crate) type Outcome = Result<Flow, Disconnect>;

pub(crate) struct Session<S, B> {
    pub conn: Connection<S>,
    pub server: Arc<Server<B>>,
    pub peer: SocketAddr,
    pub helo: Option<Helo>,
    pub transaction: Option<Transaction>,
    errors: u32,
}

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    pub fn new(conn: Connection<S>, server: Arc<Server<B>>, peer: SocketAddr) -> Self {
        Session {
            conn,
            server,
            peer,
            helo: None,
            transaction: None,
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        let greeting = format!("{} ESMTP postamt", self.server.config.hostname);
        self.reply(Reply::plain(220, vec![greeting]));
        loop {
            let max_line = self.server.config.max_line_length;
            let outcome = match parse_command(self.conn.buffered(), max_line) {
                Ok((command, used)) => {
                    self.conn.consume(used);
                    self.handle(command).await
                }
                Err(CommandError::Incomplete) => self.read_more().await.map(|()| Flow::Continue),
                Err(CommandError::LineTooLong) => self.discard_long_line().await,
                Err(CommandError::Unrecognized { consumed }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(Reply::new(500, "5.5.1", "Command unrecognized")))
                }
                Err(CommandError::Syntax { consumed, reason }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(Reply::new(501, "5.5.4", reason)))
                }
            };
            match outcome {
                Ok(Flow::Continue) => {}
                Ok(Flow::Close) => {
                    self.conn.close().await;
                    return;
                }
                Err(Disconnect) => return,
            }
        }
    }

    async fn handle(&mut self, command: Command) -> Outcome {
        match command {
            Command::Ehlo(name) => Ok(self.ehlo(name, true)),
            Command::Helo(name) => Ok(self.ehlo(name, false)),
            Command::Mail { from, params } => Ok(self.mail(from, params)),
            Command::Rcpt { to, params } => Ok(self.rcpt(to, params).await),
            Command::Data => self.data().await,
            Command::StartTls => self.starttls().await,
            Command::Rset => {
                self.transaction = None;
                Ok(self.ok(Reply::new(250, "2.0.0", "Ok")))
            }
            Command::Noop => Ok(self.ok(Reply::new(250, "2.0.0", "Ok"))),
            Command::Quit => {
                self.reply(Reply::new(221, "2.0.0", "Bye"));
                Ok(Flow::Close)
            }
            // RFC 5321 §3.5.3: 252 neither confirms nor denies an address,
            // which keeps VRFY from enumerating users.
            Command::Vrfy(_) => Ok(self.ok(Reply::new(
                252,
                "2.5.0",
                "Cannot VRFY user, but will accept message and attempt delivery",
            ))),
            Command::Expn(_) => Ok(self.error(Reply::new(502, "5.5.1", "EXPN is not supported"))),
            Command::Help(_) => Ok(self.ok(Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP STARTTLS",
            ))),
        }
    }

    /// Queues a reply; it is sent before the session next waits for input.
    pub fn reply(&mut self, reply: Reply) {
        reply.encode(self.conn.output());
    }

    /// Sends a reply and goes on.
    pub fn ok(&mut self, reply: Reply) -> Flow {
        self.reply(reply);
        Flow::Continue
    }

    /// Sends an error reply and counts it; too many errors end the session
    /// (RFC 5321 §4.5.3.2 leaves the policy to the server; Postfix's
    /// `smtpd_hard_error_limit` is the model).
    pub fn error(&mut self, reply: Reply) -> Flow {
        self.reply(reply);
        self.errors += 1;
        if self.errors >= self.server.config.max_errors {
            tracing::info!(errors = self.errors, "too many errors, disconnecting");
            self.reply(Reply::new(421, "4.7.0", "Too many errors, closing connection"));
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Waits for input.
    pub async fn read_more(&mut self) -> Result<(), Disconnect> {
        match self.conn.fill().await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.read_failed(e).await),
        }
    }

    /// Drops an over-long line, then answers 500 5.5.2.
    async fn discard_long_line(&mut self) -> Outcome {
        match self.conn.skip_line().await {
            Ok(()) => Ok(self.error(Reply::new(500, "5.5.2", "Line too long"))),
            Err(e) => Err(self.read_failed(e).await),
        }
    }

    /// Ends the session after a failed read; a timeout is announced with
    /// 421 (RFC 5321 §4.5.3.2).
    async fn read_failed(&mut self, error: ReadError) -> Disconnect {
        match error {
            ReadError::Timeout(after) => {
                tracing::info!(?after, "client timed out");
                self.reply(Reply::new(421, "4.4.2", "Timeout exceeded, closing connection"));
                self.conn.close().await;
            }
            ReadError::Closed => {}
            ReadError::Io(e) => tracing::debug!(error = %e, "connection failed"),
        }
        Disconnect
    }
}
