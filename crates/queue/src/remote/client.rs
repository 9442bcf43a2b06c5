//! The SMTP client (RFC 5321 as sender): greeting, EHLO with HELO
//! fallback, opportunistic STARTTLS, AUTH PLAIN toward a relay, and one
//! mail transaction at a time with PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
//! DSN, CHUNKING and REQUIRETLS (RFC 8689) used where the server offers
//! them. Every reply must
//! arrive whole within the time RFC 5321 §4.5.3.2 recommends for it, and
//! the connection as a whole has a deadline too (`ClientTimeouts`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use base64::Engine;
use net::{Connection, ReadError, ServerName, Stream, TlsConnector};
use store::QueueRecipient;
use tokio::net::TcpStream;
use wire::dot::DotStuffer;
use wire::smtp::{BodyType, DsnReturn, Extensions, Notify, Response, ResponseError, encode_xtext, parse_response};

use super::TlsFacts;
use super::security::TlsPolicy;
use crate::config::ClientTimeouts;

/// The longest reply line accepted from a server.
const MAX_REPLY_LINE: usize = 4096;

/// Why a session could not be used.
#[derive(Debug)]
pub(crate) enum SessionError {
    /// The host could not be reached or stopped making sense: try the next.
    Unusable(String),
    /// The host refused the session (greeting, EHLO, STARTTLS or AUTH).
    Refused(Response),
    /// The TLS handshake failed (the next host is tried, as for
    /// `Unusable`); `failure` says why when a certificate verifier refused
    /// the server, and `local` is our end of the connection, both for the
    /// TLS report (RFC 8460 §4.3).
    Handshake {
        reason: String,
        failure: Option<net::VerifyFailure>,
        local: Option<IpAddr>,
    },
    /// The domain's transport security policy (MTA-STS or DANE) forbids
    /// this session (no STARTTLS, a certificate that does not verify): try
    /// the next host, and defer with this RFC 3463 status if none is left.
    /// `result_type` is the RFC 8460 §4.3 result type a TLS report counts.
    Policy {
        status: &'static str,
        reason: String,
        result_type: &'static str,
        policy: TlsPolicy,
    },
    /// The session cannot carry this message securely enough (RFC 8689
    /// §4.2.1): this reply and RFC 3463 status if no other host can.
    Insecure {
        reply: String,
        status: &'static str,
        tls: TlsFacts,
    },
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Unusable(reason) => f.write_str(reason),
            SessionError::Refused(reply) => f.write_str(&reply.one_line()),
            SessionError::Handshake { reason, .. } => f.write_str(reason),
            SessionError::Policy { reason, .. } => f.write_str(reason),
            SessionError::Insecure { reply, .. } => f.write_str(reply),
        }
    }
}

/// One message to send, with its envelope.
pub(crate) struct Outgoing<'a> {
    pub reverse_path: &'a str,
    pub recipients: Vec<OutgoingRecipient<'a>>,
    pub body: BodyType,
    pub smtputf8: bool,
    pub dsn_ret: Option<DsnReturn>,
    pub dsn_envid: Option<&'a str>,
    /// REQUIRETLS (RFC 8689): only over TLS with an authenticated server
    /// that offers REQUIRETLS, and MAIL carries it on.
    pub require_tls: bool,
    pub content: &'a [u8],
}

impl<'a> Outgoing<'a> {
    /// The message the recipients of one queued message share (their
    /// envelope options are the message's), None for no recipients.
    pub fn of(recipients: &'a [QueueRecipient], content: &'a [u8]) -> Option<Outgoing<'a>> {
        let first = recipients.first()?;
        Some(Outgoing {
            reverse_path: &first.reverse_path,
            recipients: recipients
                .iter()
                .map(|r| OutgoingRecipient {
                    address: &r.address,
                    notify: r.notify,
                    orcpt: r.orcpt.as_deref(),
                })
                .collect(),
            body: first.body,
            smtputf8: first.smtputf8,
            dsn_ret: first.dsn_ret,
            dsn_envid: first.dsn_envid.as_deref(),
            require_tls: first.require_tls,
            content,
        })
    }
}

pub(crate) struct OutgoingRecipient<'a> {
    pub address: &'a str,
    pub notify: Option<Notify>,
    pub orcpt: Option<&'a str>,
}

/// What became of one recipient in a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecipientResult {
    Accepted(Response),
    /// Refused with this reply (4xx: try later, 5xx: never).
    Refused(Response),
    /// Not attempted, for a reason of ours (the host cannot take it).
    Unsendable {
        reply: String,
        status: &'static str,
    },
}

pub(crate) struct SmtpClient {
    conn: Connection<TcpStream>,
    pub extensions: Extensions,
    /// The host name, for TLS and for messages.
    pub host: String,
    /// Our end of the connection, for TLS reports.
    pub local_ip: Option<IpAddr>,
    timeouts: ClientTimeouts,
    /// When this connection's time is up, whatever it is doing.
    deadline: Instant,
    /// The server is authenticated as RFC 8689 §4.2.1 asks: its certificate
    /// verified (PKIX per RFC 6125, or DANE per RFC 7672) for a host name
    /// that DNSSEC or MTA-STS vouches for. Set by whoever verified it;
    /// false for opportunistic TLS.
    pub verified: bool,
    /// The transport security policy the session was opened under.
    pub policy: TlsPolicy,
}

impl SmtpClient {
    /// Connects and reads the greeting.
    pub async fn connect(
        address: SocketAddr,
        host: &str,
        timeouts: ClientTimeouts,
    ) -> Result<SmtpClient, SessionError> {
        let deadline = Instant::now() + timeouts.session;
        let stream = Self::dial(address, host, timeouts).await?;
        let local = stream.local_addr().ok().map(|a| a.ip());
        let conn = Connection::new(Stream::Plain(stream), timeouts.greeting);
        Self::greet(conn, host, local, timeouts, deadline).await
    }

    /// Connects with implicit TLS (a relay on port 465, RFC 8314).
    pub async fn connect_tls(
        address: SocketAddr,
        host: &str,
        tls: &TlsConnector,
        timeouts: ClientTimeouts,
    ) -> Result<SmtpClient, SessionError> {
        let deadline = Instant::now() + timeouts.session;
        let stream = Self::dial(address, host, timeouts).await?;
        let local = stream.local_addr().ok().map(|a| a.ip());
        let name = server_name(host)?;
        let conn = Connection::connect_tls(stream, tls, name, timeouts.command)
            .await
            .map_err(|e| SessionError::Handshake {
                reason: format!("TLS with {host}[{address}]: {e}"),
                failure: net::VerifyFailure::of(&e),
                local,
            })?;
        Self::greet(conn, host, local, timeouts, deadline).await
    }

    async fn dial(address: SocketAddr, host: &str, timeouts: ClientTimeouts) -> Result<TcpStream, SessionError> {
        let stream = tokio::time::timeout(timeouts.connect, TcpStream::connect(address))
            .await
            .map_err(|_| SessionError::Unusable(format!("connecting to {host}[{address}] timed out")))?
            .map_err(|e| SessionError::Unusable(format!("connecting to {host}[{address}]: {e}")))?;
        let _ = stream.set_nodelay(true);
        Ok(stream)
    }

    async fn greet(
        conn: Connection<TcpStream>,
        host: &str,
        local_ip: Option<IpAddr>,
        timeouts: ClientTimeouts,
        deadline: Instant,
    ) -> Result<SmtpClient, SessionError> {
        let mut client = SmtpClient {
            conn,
            extensions: Extensions::default(),
            host: host.to_string(),
            local_ip,
            timeouts,
            deadline,
            verified: false,
            policy: TlsPolicy::None,
        };
        let greeting = client.read_with(timeouts.greeting).await?;
        if !greeting.is_success() {
            return Err(SessionError::Refused(greeting));
        }
        Ok(client)
    }

    /// EHLO, or HELO if the server does not know EHLO (RFC 5321 §3.2).
    pub async fn hello(&mut self, our_name: &str) -> Result<(), SessionError> {
        let reply = self.command(&format!("EHLO {our_name}"), self.timeouts.command).await?;
        if reply.is_success() {
            self.extensions = Extensions::from_ehlo(&reply);
            return Ok(());
        }
        let reply = self.command(&format!("HELO {our_name}"), self.timeouts.command).await?;
        if !reply.is_success() {
            return Err(SessionError::Refused(reply));
        }
        self.extensions = Extensions::default();
        Ok(())
    }

    /// STARTTLS and a new EHLO (RFC 3207 §4.2: what was learnt before TLS
    /// is forgotten).
    pub async fn starttls(&mut self, tls: &TlsConnector, our_name: &str) -> Result<(), SessionError> {
        let host = self.host.clone();
        self.starttls_as(tls, &host, our_name).await
    }

    /// STARTTLS sending `name` as the server name (SNI; for DANE the TLSA
    /// base domain, RFC 7672 §8.1). A failed handshake keeps the
    /// verifier's reason (`SessionError::Handshake`).
    pub async fn starttls_as(&mut self, tls: &TlsConnector, name: &str, our_name: &str) -> Result<(), SessionError> {
        let reply = self.command("STARTTLS", self.timeouts.command).await?;
        if !reply.is_success() {
            return Err(SessionError::Refused(reply));
        }
        let name = server_name(name)?;
        let limit = self.limit(self.timeouts.command)?;
        self.conn.set_timeout(limit);
        if let Err(e) = self.conn.start_tls_client(tls, name).await {
            let failure = net::VerifyFailure::of(&e);
            let reason = match &failure {
                Some(failure) => format!("TLS with {}: {failure}", self.host),
                None => format!("TLS with {}: {e}", self.host),
            };
            return Err(SessionError::Handshake {
                reason,
                failure,
                local: self.local_ip,
            });
        }
        self.hello(our_name).await
    }

    pub fn is_tls(&self) -> bool {
        self.conn.is_tls()
    }

    /// What protects this session: the policy (`none` without TLS) and the
    /// TLS version and cipher suite.
    pub fn tls_facts(&self) -> TlsFacts {
        let (version, cipher) = self.conn.tls_parameters().unzip();
        TlsFacts {
            policy: if self.is_tls() { self.policy.name() } else { "none" },
            version,
            cipher,
        }
    }

    /// AUTH PLAIN with an initial response (RFC 4954, RFC 4616).
    pub async fn authenticate(&mut self, user: &str, password: &str) -> Result<(), SessionError> {
        let credentials = base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let reply = self
            .command(&format!("AUTH PLAIN {credentials}"), self.timeouts.command)
            .await?;
        if reply.is_success() {
            Ok(())
        } else {
            Err(SessionError::Refused(reply))
        }
    }

    /// Sends one message. Returns a result per recipient, in order; an
    /// error means the session broke and the message must be tried again.
    pub async fn send(&mut self, message: &Outgoing<'_>) -> Result<Vec<RecipientResult>, SessionError> {
        if let Some((reply, status)) = self.cannot_take(message) {
            let unsendable = RecipientResult::Unsendable { reply, status };
            return Ok(message.recipients.iter().map(|_| unsendable.clone()).collect());
        }
        let chunking = self.extensions.chunking;
        let replies = self.send_envelope(message).await?;
        let mail_reply = replies[0].clone();
        if !mail_reply.is_success() {
            self.reset().await;
            return Ok(message
                .recipients
                .iter()
                .map(|_| RecipientResult::Refused(mail_reply.clone()))
                .collect());
        }
        let rcpt_replies = &replies[1..1 + message.recipients.len().min(replies.len() - 1)];
        let mut results: Vec<RecipientResult> = rcpt_replies
            .iter()
            .map(|r| {
                if r.is_success() {
                    RecipientResult::Accepted(r.clone())
                } else {
                    RecipientResult::Refused(r.clone())
                }
            })
            .collect();
        if !rcpt_replies.iter().any(Response::is_success) {
            self.reset().await;
            return Ok(results);
        }
        let final_reply = if chunking {
            self.send_chunk(message.content).await?
        } else {
            let data_reply = replies.get(1 + message.recipients.len()).cloned();
            self.send_data(message.content, data_reply).await?
        };
        // RFC 5321 §3.3: the reply to the content decides for every
        // recipient the server accepted.
        for result in &mut results {
            if matches!(result, RecipientResult::Accepted(_)) {
                *result = if final_reply.is_success() {
                    RecipientResult::Accepted(final_reply.clone())
                } else {
                    RecipientResult::Refused(final_reply.clone())
                };
            }
        }
        Ok(results)
    }

    /// MAIL FROM and a RCPT TO per recipient, with the parameters this
    /// server understands.
    fn envelope_commands(&self, message: &Outgoing<'_>) -> Vec<String> {
        let ext = &self.extensions;
        let mut mail = format!("MAIL FROM:<{}>", message.reverse_path);
        if ext.size.is_some() {
            mail.push_str(&format!(" SIZE={}", message.content.len()));
        }
        if message.body != BodyType::SevenBit && (ext.eight_bit_mime || ext.binary_mime) {
            mail.push_str(&format!(" BODY={}", message.body));
        }
        if message.smtputf8 {
            mail.push_str(" SMTPUTF8");
        }
        // RFC 8689 §4.2.1: the next hop takes on the requirement.
        if message.require_tls && ext.requiretls {
            mail.push_str(" REQUIRETLS");
        }
        if ext.dsn {
            if let Some(ret) = message.dsn_ret {
                mail.push_str(&format!(" RET={ret}"));
            }
            if let Some(envid) = message.dsn_envid {
                mail.push_str(&format!(" ENVID={}", encode_xtext(envid)));
            }
        }
        let mut commands = vec![mail];
        for recipient in &message.recipients {
            let mut rcpt = format!("RCPT TO:<{}>", recipient.address);
            if ext.dsn {
                if let Some(notify) = recipient.notify {
                    rcpt.push_str(&format!(" NOTIFY={notify}"));
                }
                if let Some((kind, address)) = recipient.orcpt.and_then(|o| o.split_once(';')) {
                    rcpt.push_str(&format!(" ORCPT={kind};{}", encode_xtext(address)));
                }
            }
            commands.push(rcpt);
        }
        commands
    }

    /// Sends the envelope and returns the replies: MAIL's first, then one
    /// per RCPT, then DATA's when it was pipelined. Without PIPELINING a
    /// refused MAIL ends it there.
    async fn send_envelope(&mut self, message: &Outgoing<'_>) -> Result<Vec<Response>, SessionError> {
        let mut commands = self.envelope_commands(message);
        let mut replies = Vec::new();
        // RFC 2920: the whole envelope, and DATA, in one write.
        if self.extensions.pipelining {
            if !self.extensions.chunking {
                commands.push("DATA".into());
            }
            for command in &commands {
                self.queue_line(command);
            }
            for _ in &commands {
                replies.push(self.read_with(self.timeouts.command).await?);
            }
        } else {
            for command in &commands {
                let reply = self.command(command, self.timeouts.command).await?;
                let stop = replies.is_empty() && !reply.is_success();
                replies.push(reply);
                if stop {
                    break;
                }
            }
        }
        Ok(replies)
    }

    /// RFC 3030: the whole message as one last chunk; no dot-stuffing. It
    /// goes out a piece at a time, so that the output buffer never holds a
    /// second copy of a large message.
    async fn send_chunk(&mut self, content: &[u8]) -> Result<Response, SessionError> {
        self.queue_line(&format!("BDAT {} LAST", content.len()));
        for piece in content.chunks(256 * 1024) {
            self.conn.send(piece);
            self.flush_block().await?;
        }
        self.read_with(self.timeouts.data_end).await
    }

    /// DATA (unless its reply came with the pipelined envelope), then the
    /// dot-stuffed content; the reply that decides.
    async fn send_data(&mut self, content: &[u8], data_reply: Option<Response>) -> Result<Response, SessionError> {
        let data_reply = match data_reply {
            Some(reply) => reply,
            None => self.command("DATA", self.timeouts.data_init).await?,
        };
        if data_reply.code != 354 {
            self.reset().await;
            return Ok(data_reply);
        }
        let mut stuffer = DotStuffer::with_crlf_line_ends();
        for chunk in content.chunks(64 * 1024) {
            stuffer.stuff(chunk, self.conn.output());
            if self.conn.pending_output() >= 256 * 1024 {
                self.flush_block().await?;
            }
        }
        stuffer.finish(self.conn.output());
        self.read_with(self.timeouts.data_end).await
    }

    /// Why this server cannot take the message at all, as a reply and an
    /// RFC 3463 status.
    fn cannot_take(&self, message: &Outgoing<'_>) -> Option<(String, &'static str)> {
        let ext = &self.extensions;
        let host = &self.host;
        if let Some(refusal) = self.too_weak_for(message) {
            return Some(refusal);
        }
        if let Some(limit) = ext
            .size
            .filter(|&limit| limit > 0 && message.content.len() as u64 > limit)
        {
            return Some((
                format!("552 5.3.4 message too big for {host} (its limit is {limit} bytes)"),
                "5.3.4",
            ));
        }
        if message.smtputf8 && !ext.smtputf8 {
            // RFC 6531 §3.2: without SMTPUTF8 at the next hop, the message
            // cannot be relayed as it is.
            return Some((format!("553 5.6.7 {host} does not support SMTPUTF8"), "5.6.7"));
        }
        match message.body {
            BodyType::BinaryMime if !(ext.binary_mime && ext.chunking) => Some((
                format!("554 5.6.3 {host} does not accept binary content (BINARYMIME)"),
                "5.6.3",
            )),
            // RFC 6152 §3 lets the relay return what it cannot convert.
            BodyType::EightBitMime if !ext.eight_bit_mime => Some((
                format!("554 5.6.3 {host} does not accept 8-bit content (8BITMIME)"),
                "5.6.3",
            )),
            _ => None,
        }
    }

    /// Why this session may not carry a REQUIRETLS message, as a reply and
    /// an RFC 3463 status (RFC 8689 §4.2.1): it must be TLS with an
    /// authenticated server (else 5.7.10, encryption needed) that offers
    /// REQUIRETLS after STARTTLS (else 5.7.30, REQUIRETLS support
    /// required). A message from the null reverse-path (a report) is
    /// exempt there.
    pub fn too_weak_for(&self, message: &Outgoing<'_>) -> Option<(String, &'static str)> {
        if !message.require_tls || message.reverse_path.is_empty() {
            return None;
        }
        let host = &self.host;
        if !self.is_tls() {
            return Some((format!("550 5.7.10 REQUIRETLS: {host} offers no TLS"), "5.7.10"));
        }
        if !self.verified {
            return Some((
                format!("550 5.7.10 REQUIRETLS: the certificate of {host} could not be authenticated"),
                "5.7.10",
            ));
        }
        if !self.extensions.requiretls {
            return Some((
                format!("550 5.7.30 REQUIRETLS support required: {host} does not offer it"),
                "5.7.30",
            ));
        }
        None
    }

    /// RSET after a failed transaction, so the session can be reused.
    pub async fn reset(&mut self) -> bool {
        matches!(self.command("RSET", self.timeouts.command).await, Ok(reply) if reply.is_success())
    }

    pub async fn quit(mut self) {
        let _ = self.command("QUIT", Duration::from_secs(10)).await;
        self.conn.close().await;
    }

    fn queue_line(&mut self, line: &str) {
        self.conn.send(line.as_bytes());
        self.conn.send(b"\r\n");
    }

    async fn command(&mut self, line: &str, timeout: Duration) -> Result<Response, SessionError> {
        self.queue_line(line);
        self.read_with(timeout).await
    }

    /// Reads one reply, which must arrive whole within `timeout` (and
    /// before the connection's deadline), flushing what is queued first.
    async fn read_with(&mut self, timeout: Duration) -> Result<Response, SessionError> {
        let limit = self.limit(timeout)?;
        self.conn.set_timeout(limit);
        match tokio::time::timeout(limit, self.read()).await {
            Ok(result) => result,
            Err(_) if limit < timeout => Err(self.out_of_time()),
            Err(_) => Err(SessionError::Unusable(format!(
                "{} did not complete its reply within {limit:?}",
                self.host
            ))),
        }
    }

    /// Sends one block of message data within the block timeout.
    async fn flush_block(&mut self) -> Result<(), SessionError> {
        let limit = self.limit(self.timeouts.data_block)?;
        self.conn.set_timeout(limit);
        self.conn.flush().await.map_err(|e| self.broken(&e))
    }

    /// `timeout`, or less if the connection's deadline comes first.
    fn limit(&self, timeout: Duration) -> Result<Duration, SessionError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.out_of_time());
        }
        Ok(timeout.min(left))
    }

    fn out_of_time(&self) -> SessionError {
        SessionError::Unusable(format!(
            "the session with {} took longer than {:?}",
            self.host, self.timeouts.session
        ))
    }

    /// Whether this connection has time enough left for another message:
    /// half of its whole allowance, so reuse never starts a transaction the
    /// deadline is about to cut.
    pub fn has_time_left(&self) -> bool {
        self.deadline.saturating_duration_since(Instant::now()) > self.timeouts.session / 2
    }

    /// Reads one reply.
    async fn read(&mut self) -> Result<Response, SessionError> {
        loop {
            match parse_response(self.conn.buffered(), MAX_REPLY_LINE) {
                Ok((reply, used)) => {
                    self.conn.consume(used);
                    return Ok(reply);
                }
                Err(ResponseError::Incomplete) => {}
                Err(ResponseError::Invalid(reason)) => {
                    return Err(SessionError::Unusable(format!("{}: {reason}", self.host)));
                }
            }
            self.conn.fill().await.map_err(|e| match e {
                // The connection's read limit and the reply's deadline are
                // the same instant; whichever fires, the session's end is
                // reported as such.
                ReadError::Timeout(_) if Instant::now() >= self.deadline => self.out_of_time(),
                ReadError::Timeout(after) => {
                    SessionError::Unusable(format!("{} sent nothing for {after:?}", self.host))
                }
                ReadError::Closed => SessionError::Unusable(format!("{} closed the connection", self.host)),
                ReadError::Io(e) => self.broken(&e),
            })?;
        }
    }

    fn broken(&self, error: &std::io::Error) -> SessionError {
        SessionError::Unusable(format!("connection to {} failed: {error}", self.host))
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>, SessionError> {
    net::server_name(host).map_err(|e| SessionError::Unusable(e.to_string()))
}
