//! One SMTP session: the command loop, the session state and the handling
//! of errors, limits and timeouts common to every command.

use std::net::SocketAddr;
use std::sync::Arc;

use net::Connection;
use tokio::io::{AsyncRead, AsyncWrite};
use wire::line::{LineTooLong, find_line, strip_eol};
use wire::smtp::{Command, CommandError, Recipient, Reply, ReversePath, parse_command};

use crate::backend::Backend;
use crate::client_memory::{Standing, client_key};
use crate::error::{Error, Handled};
use crate::params::MailParams;
use crate::rate_limit::RateLimit;
use crate::server::{Role, Server};

/// What the client told us in EHLO/HELO.
pub(crate) struct Helo {
    pub name: String,
    /// EHLO (true) or HELO: ESMTP parameters are only for EHLO clients.
    pub extended: bool,
}

/// A mail transaction, from MAIL FROM to the end of DATA or BDAT LAST.
pub(crate) struct Transaction {
    pub from: ReversePath,
    pub params: MailParams,
    pub recipients: Vec<Recipient>,
    /// The message so far, our Received header first; started by DATA or
    /// the first BDAT (so its presence between commands means BDAT is in
    /// progress, after which DATA may not follow, RFC 3030 §3).
    pub content: Option<Content>,
    /// Whether a recipient over `max_recipients` was refused (452) and
    /// logged: only the first is, as a client may send thousands.
    pub over_limit: bool,
}

/// A message being received.
pub(crate) struct Content {
    pub id: String,
    pub received_at: i64,
    pub bytes: Vec<u8>,
    /// Length of our Received header at the start of `bytes`.
    pub trace_len: usize,
    /// Bytes of message (excluding our header) seen so far, kept or not.
    pub size: u64,
}

pub(crate) use net::{Disconnect, Flow, Outcome};

/// Said to a client that stayed silent too long, before hanging up
/// (RFC 5321 §4.5.3.2).
const TIMEOUT: &[u8] = b"421 4.4.2 Timeout exceeded, closing connection\r\n";

pub(crate) struct Session<S, B: Backend> {
    pub conn: Connection<S>,
    pub server: Arc<Server<B>>,
    /// The server's settings when this session began: a reload changes
    /// later sessions, not this one (see `net::Live`).
    pub config: Arc<crate::SmtpConfig>,
    pub peer: SocketAddr,
    pub role: Role,
    pub helo: Option<Helo>,
    pub transaction: Option<Transaction>,
    /// The account address, once AUTH succeeded.
    pub authenticated: Option<String>,
    /// What the backend's checks at MAIL FROM found, for mail that is
    /// checked; set by each MAIL FROM, taken when its message is complete.
    pub sender_checks: Option<B::SenderChecks>,
    errors: u32,
}

impl<S, B> Session<S, B>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
    B: Backend,
{
    /// Counts `n` events of the limit `rate` (named `name`) for `key`:
    /// for the whole cluster when the backend can (a shared store), else
    /// on this node. False, and nothing counted, when over the limit.
    pub(crate) async fn rate_allows<K>(&self, rate: &RateLimit<K>, name: &str, key: &K, n: u64) -> bool
    where
        K: std::hash::Hash + Eq + Clone + std::fmt::Display,
    {
        self.server.rate_allows(rate, name, key, n).await
    }

    pub fn new(conn: Connection<S>, server: Arc<Server<B>>, peer: SocketAddr, role: Role) -> Self {
        Session {
            conn,
            config: server.config.get(),
            server,
            peer,
            role,
            helo: None,
            transaction: None,
            authenticated: None,
            sender_checks: None,
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        if let Some(refusal) = self.screen().await {
            self.reply(refusal);
            self.conn.close().await;
            return;
        }
        let greeting = format!("{} ESMTP postamt", self.config.hostname);
        self.reply(Reply::plain(220, vec![greeting]));
        loop {
            let max_line = self.config.max_line_length;
            let outcome = match parse_command(self.conn.buffered(), max_line) {
                Ok((command, used)) => {
                    self.conn.consume(used);
                    self.handle(command).await
                }
                // Between commands: where a stop ends the session, unless
                // a BDAT series has begun: its message is finished first,
                // as one in DATA is (RFC 3030 §2: chunks until LAST).
                Err(CommandError::Incomplete) if self.in_bdat() => self.read_more().await.map(|()| Flow::Continue),
                Err(CommandError::Incomplete) => self.conn.read_command(TIMEOUT).await.map(|()| Flow::Continue),
                Err(CommandError::LineTooLong) => self.discard_long_line().await,
                Err(CommandError::Unrecognized { consumed }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(Reply::new(500, "5.5.1", "Command unrecognized")))
                }
                Err(CommandError::Syntax { consumed, reason }) => {
                    self.conn.consume(consumed);
                    Ok(self.error(Reply::new(501, "5.5.4", reason)))
                }
                Err(CommandError::Http { .. }) => {
                    tracing::info!("HTTP request on an SMTP port, disconnecting");
                    self.reply(Reply::new(554, "5.7.0", "This is an SMTP server, not a web server"));
                    Ok(Flow::Close)
                }
            };
            if !self.conn.proceed(outcome).await {
                return;
            }
        }
    }

    /// Runs one command and answers a failed one: the one place where
    /// errors become replies.
    async fn handle(&mut self, command: Command) -> Outcome {
        let verb = command.verb();
        match self.dispatch(command).await {
            Ok(flow) => Ok(flow),
            Err(Error::Refused(reply)) => {
                // Every refusal is logged once, with its reason: the
                // reply's text, never the message's.
                tracing::info!(
                    command = verb,
                    code = reply.code,
                    status = reply.status.unwrap_or(""),
                    reason = %reply.lines.join(" "),
                    "command refused"
                );
                Ok(self.error(reply))
            }
            Err(Error::Logged(reply)) => Ok(self.error(reply)),
            Err(Error::Backend { reply, error }) => {
                tracing::error!(%error, code = reply.code, "the backend failed");
                Ok(self.ok(reply))
            }
            Err(Error::Disconnect) => Err(Disconnect),
        }
    }

    async fn dispatch(&mut self, command: Command) -> Handled {
        match command {
            Command::Ehlo(name) => Ok(self.ehlo(name, true)),
            Command::Helo(name) => Ok(self.ehlo(name, false)),
            Command::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, initial_response).await,
            Command::Mail { from, params } => self.mail(from, params).await,
            Command::Rcpt { to, params } => self.rcpt(to, params).await,
            Command::Data => self.data().await,
            Command::Bdat { size, last } => self.bdat(size, last).await,
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
            Command::Expn(_) => Err(Error::refused(502, "5.5.1", "EXPN is not supported")),
            Command::Help(_) => Ok(self.ok(Reply::new(
                214,
                "2.0.0",
                "Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP",
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
        if self.errors >= self.config.max_errors {
            tracing::info!(errors = self.errors, "too many errors, disconnecting");
            self.reply(Reply::new(421, "4.7.0", "Too many errors, closing connection"));
            return Flow::Close;
        }
        Flow::Continue
    }

    /// True if this client may send mail to domains not hosted here:
    /// authenticated, or from a trusted network.
    pub fn may_relay(&self) -> bool {
        self.authenticated.is_some() || self.config.trusted_networks.iter().any(|n| n.contains(self.peer.ip()))
    }

    /// Before the greeting on the MX port: the pregreet test and the
    /// backend's screening (DNS lists) at the same time, so a client waits
    /// for the slower of the two, not for both. The refusal, if any.
    async fn screen(&mut self) -> Option<Reply> {
        if self.role != Role::Mx || self.may_relay() {
            return None;
        }
        let server = self.server.clone();
        let ip = self.peer.ip();
        if !self
            .rate_allows(
                &server.rates.client_connections,
                "client_connections",
                &client_key(ip),
                1,
            )
            .await
        {
            tracing::info!("client over its connection rate, refused");
            return Some(Reply::new(
                421,
                "4.7.0",
                "Too many connections from your address; try again later",
            ));
        }
        let (pregreet, screened) = tokio::join!(self.pregreet(), server.backend.check_client(ip));
        match (pregreet, screened) {
            (Some(refusal), _) => {
                metrics::SMTP_REFUSED.inc("other");
                Some(refusal)
            }
            (None, Err(refusal)) => {
                metrics::SMTP_REFUSED.inc("blocklisted");
                Some(refusal)
            }
            (None, Ok(())) => None,
        }
    }

    /// The pregreet test on the MX port (RFC 5321 §4.3.1: a client waits
    /// for the greeting; spam engines often do not), for clients without a
    /// verdict; trusted networks skip it. The refusal, if the client is
    /// refused.
    async fn pregreet(&mut self) -> Option<Reply> {
        let wait = self.config.pregreet_wait;
        if wait.is_zero() {
            return None;
        }
        let ip = self.peer.ip();
        match self.server.clients.standing(ip, crate::server::unix_now()) {
            Some(Standing::Passed) => None,
            Some(Standing::Failed) => {
                tracing::info!("client talked before the greeting recently, refused");
                Some(Reply::new(
                    554,
                    "5.7.1",
                    "Service unavailable: this address talked before the greeting",
                ))
            }
            None if self.conn.talks_first(wait).await => {
                tracing::info!("client talked before the greeting, disconnecting");
                self.server.remember_client(ip, Standing::Failed);
                Some(Reply::new(554, "5.5.1", "Protocol error: talking before the greeting"))
            }
            None => {
                self.server.remember_client(ip, Standing::Passed);
                None
            }
        }
    }

    /// The client, if its mail is to be checked: on the MX port, and
    /// neither authenticated nor trusted (their mail is ours to vouch for,
    /// not to doubt).
    pub fn checked_client(&self) -> Option<crate::backend::Client<'_>> {
        let helo = self.helo.as_ref()?;
        (self.role == Role::Mx && !self.may_relay()).then(|| crate::backend::Client {
            ip: self.peer.ip().to_canonical(),
            helo: &helo.name,
        })
    }

    /// Whether BDAT chunks of a message have come and its LAST has not.
    fn in_bdat(&self) -> bool {
        self.transaction.as_ref().is_some_and(|t| t.content.is_some())
    }

    /// Waits for input.
    pub async fn read_more(&mut self) -> Result<(), Disconnect> {
        self.conn.read_more(TIMEOUT).await
    }

    /// Reads one line (a SASL response), within the command line limit;
    /// `None` if it was too long (and has been skipped).
    pub async fn read_line(&mut self) -> Result<Option<String>, Disconnect> {
        loop {
            match find_line(self.conn.buffered(), self.config.max_line_length) {
                Ok(Some(n)) => {
                    let line = String::from_utf8_lossy(strip_eol(&self.conn.buffered()[..n])).into_owned();
                    self.conn.consume(n);
                    return Ok(Some(line));
                }
                Ok(None) => self.read_more().await?,
                Err(LineTooLong) => {
                    self.conn.skip_long_line(TIMEOUT).await?;
                    return Ok(None);
                }
            }
        }
    }

    /// Drops an over-long line, then answers 500 5.5.2.
    async fn discard_long_line(&mut self) -> Outcome {
        self.conn.skip_long_line(TIMEOUT).await?;
        Ok(self.error(Reply::new(500, "5.5.2", "Line too long")))
    }
}
