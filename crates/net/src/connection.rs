//! The session side of a connection: buffered input that codecs parse in
//! place, buffered output flushed before every wait for input (so pipelined
//! replies go out together, RFC 2920), and a timeout on every read and write.

use std::any::Any;
use std::io;
use std::time::{Duration, Instant};

use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::deflate::{self, Deflate};
use crate::stream::Stream;

/// The first read of a connection takes up to this much; an idle
/// connection holds about this much for input (issue 7: 10 000 idle
/// sessions in 300 MB).
const MIN_READ: usize = 4 * 1024;
/// Reads that fill what they were offered double the next offer, up to
/// this, so bulk input (DATA, literals) moves in large reads.
const MAX_READ: usize = 64 * 1024;
/// Buffers grown beyond this by a burst are given back once empty.
const RETAINED: usize = 2 * MAX_READ;

/// Why no more input could be had.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("the peer closed the connection")]
    Closed,
    #[error("the peer sent nothing for {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(#[from] io::Error),
}

pub struct Connection<S> {
    stream: Stream<S>,
    input: Vec<u8>,
    /// Start of the unconsumed input within `input`.
    start: usize,
    output: Vec<u8>,
    /// How much the next read may take (MIN_READ..=MAX_READ).
    read_size: usize,
    timeout: Duration,
    /// When the command now being received began to arrive (see
    /// [`Connection::fill_command`]).
    pub(crate) command_started: Option<Instant>,
    /// Asks the TCP socket below, when there is one, to acknowledge a part
    /// of a command at once (see [`Connection::acknowledge_now`]).
    quick_ack: Option<fn(&Stream<S>)>,
    /// Whether TCP_QUICKACK was set since our last reply went out: once
    /// is enough until we send again (see [`Connection::acknowledge_now`]).
    quick_acked: bool,
    /// How many times TCP_QUICKACK was set, for tests to count.
    quick_acks: u64,
    /// The listener's name, for counting STARTTLS handshakes (see
    /// [`crate::Opening::service`]); empty for client connections.
    service: &'static str,
    /// The server's stop, and what the protocol says to a client it
    /// closes for it (see [`Connection::read_command`]).
    pub(crate) stop: Option<(crate::Shutdown, &'static [u8])>,
    /// DEFLATE both ways once the protocol turned it on (IMAP COMPRESS,
    /// RFC 4978); boxed, so a connection without it pays one pointer.
    deflate: Option<Box<Deflate>>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    pub fn new(stream: Stream<S>, timeout: Duration) -> Self {
        Connection {
            stream,
            input: Vec::new(),
            start: 0,
            output: Vec::new(),
            read_size: MIN_READ,
            timeout,
            command_started: None,
            quick_ack: None,
            quick_acked: false,
            quick_acks: 0,
            service: "",
            stop: None,
            deflate: None,
        }
    }

    /// Names the listener this server-side connection came from.
    pub fn set_service(&mut self, service: &'static str) {
        self.service = service;
    }

    /// Changes the idle timeout, e.g. once a user has logged in.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    /// Input received and not yet consumed.
    pub fn buffered(&self) -> &[u8] {
        &self.input[self.start..]
    }

    /// Marks `n` bytes of [`Self::buffered`] as used.
    pub fn consume(&mut self, n: usize) {
        // Something was used, so a command ended: the next one gets its
        // own time.
        self.command_started = None;
        self.drop_input(n);
    }

    /// Drops `n` bytes of [`Self::buffered`] that belong to the command
    /// still arriving (the rest of a line the codec refused): unlike
    /// [`Self::consume`], the command goes on, and keeps its time. All of
    /// it must arrive within the timeout, so dripping the dropped part a
    /// byte at a time holds nobody (issue 12).
    pub fn discard(&mut self, n: usize) {
        self.command_started.get_or_insert_with(Instant::now);
        self.drop_input(n);
    }

    fn drop_input(&mut self, n: usize) {
        self.start = (self.start + n).min(self.input.len());
        if self.start == self.input.len() {
            self.input.clear();
            self.start = 0;
            if self.input.capacity() > RETAINED {
                self.input = Vec::new();
            }
        }
    }

    /// Queues bytes to send; they go out at the next flush.
    pub fn send(&mut self, bytes: &[u8]) {
        self.output.extend_from_slice(bytes);
    }

    /// Gives direct access to the output buffer, for encoders that append.
    pub fn output(&mut self) -> &mut Vec<u8> {
        &mut self.output
    }

    /// Bytes queued and not yet flushed.
    pub fn pending_output(&self) -> usize {
        self.output.len()
    }

    /// Flushes queued output, then waits for more input. The caller bounds
    /// how much input accumulates by consuming or discarding it; a single
    /// read adds at most 64 KiB. With no output queued, this is safe to
    /// cancel: a read lands in `input`'s spare capacity and only counts
    /// once complete (`read_buf`), so a read cancelled half-way (as in
    /// `tokio::select!`) leaves `input` as it was.
    pub async fn fill(&mut self) -> Result<usize, ReadError> {
        let replying = !self.output.is_empty();
        self.flush().await?;
        self.read_input(replying).await
    }

    /// The read of [`Self::fill`], once the output is flushed; `replied`
    /// says whether a reply just went out (for the ACK below). Safe to
    /// cancel.
    pub(crate) async fn read_input(&mut self, replied: bool) -> Result<usize, ReadError> {
        if replied {
            // A reply may put the socket back into delayed ACKs
            // (interactive mode): the next wait without one sets it again.
            self.quick_acked = false;
        } else if !self.quick_acked {
            self.acknowledge_now();
            self.quick_acked = true;
        }
        if self.start > 0 {
            self.input.drain(..self.start);
            self.start = 0;
        }
        let offered = self.read_size;
        let timeout = self.timeout;
        let read = async {
            if self.deflate.is_some() {
                return self.read_compressed(offered).await;
            }
            self.input.reserve(offered);
            let mut limited = (&mut self.stream).take(offered as u64);
            limited.read_buf(&mut self.input).await
        };
        match tokio::time::timeout(timeout, read).await {
            Err(_) => Err(ReadError::Timeout(timeout)),
            Ok(Err(e)) => Err(ReadError::Io(e)),
            Ok(Ok(0)) => Err(ReadError::Closed),
            Ok(Ok(n)) => {
                self.read_size = if n == offered {
                    (offered * 2).min(MAX_READ)
                } else {
                    MIN_READ.max(n.next_power_of_two())
                };
                Ok(n)
            }
        }
    }

    /// The read of [`Self::read_input`] on a compressed connection: inflates
    /// what was already received, and reads more compressed input only when
    /// that gives nothing, adding at most `offered` bytes to the input (the
    /// same bound as a plain read, so the codecs' limits hold for what a
    /// compression bomb would inflate to). Safe to cancel: the only wait
    /// is the socket read into spare capacity, and inflating happens
    /// after it, with no wait between.
    async fn read_compressed(&mut self, offered: usize) -> io::Result<usize> {
        let Some(deflate) = self.deflate.as_mut() else {
            return Ok(0);
        };
        loop {
            let added = deflate.inflate(&mut self.input, offered)?;
            if added > 0 {
                return Ok(added);
            }
            deflate.raw.reserve(deflate::RAW_READ);
            let mut limited = (&mut self.stream).take(deflate::RAW_READ as u64);
            if limited.read_buf(&mut deflate.raw).await? == 0 {
                return Ok(0);
            }
        }
    }

    /// Turns on DEFLATE in both directions (RFC 4978), after the reply
    /// that agreed to it was queued: that reply goes out uncompressed,
    /// everything after it compressed; input already received after the
    /// command is compressed already (RFC 4978 §3).
    pub async fn start_compression(&mut self) -> io::Result<()> {
        if self.deflate.is_some() {
            return Err(io::Error::other("compression is already active"));
        }
        self.flush().await?;
        let pending = self.buffered().to_vec();
        self.input.clear();
        self.start = 0;
        self.deflate = Some(Box::new(Deflate::new(&pending)));
        Ok(())
    }

    /// Whether DEFLATE is on (see [`Self::start_compression`]).
    pub fn is_compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// Drops input through the end of the current line (an over-long line
    /// the codec refused), reading as needed but holding no more than one
    /// read of it at a time; the line must still arrive within the
    /// command's time (see [`Self::discard`]).
    pub async fn skip_line(&mut self) -> Result<(), ReadError> {
        loop {
            match self.buffered().iter().position(|&b| b == b'\n') {
                Some(end) => {
                    self.consume(end + 1);
                    return Ok(());
                }
                None => {
                    self.discard(self.buffered().len());
                    self.fill_command().await?;
                }
            }
        }
    }

    /// Waits up to `wait` for the peer to send something, without a reply
    /// of ours having gone out: true if it did. Finds clients that talk
    /// before the greeting, which RFC 5321 §4.3.1 forbids.
    pub async fn talks_first(&mut self, wait: Duration) -> bool {
        let patience = std::mem::replace(&mut self.timeout, wait);
        let talked = self.fill().await.is_ok();
        self.timeout = patience;
        talked
    }

    /// Like [`Self::fill`] while a command is coming in, but the whole
    /// command must arrive within the timeout, not only each read: a client
    /// sending one byte at a time (slowloris) cannot hold the connection
    /// longer than that.
    pub async fn fill_command(&mut self) -> Result<usize, ReadError> {
        // Nothing of a command yet (none buffered, none discarded): the
        // wait for one is the idle timeout.
        if self.buffered().is_empty() && self.command_started.is_none() {
            return self.fill().await;
        }
        let started = *self.command_started.get_or_insert_with(Instant::now);
        self.fill_before(started).await
    }

    /// [`Self::fill`], for a command that began to arrive at `started`:
    /// it waits only for what is left of the timeout since then, and the
    /// command keeps its start.
    async fn fill_before(&mut self, started: Instant) -> Result<usize, ReadError> {
        let left = self.timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            return Err(ReadError::Timeout(self.timeout));
        }
        let patience = std::mem::replace(&mut self.timeout, left);
        let result = self.fill().await;
        self.timeout = patience;
        self.command_started = Some(started);
        match result {
            Err(ReadError::Timeout(_)) => Err(ReadError::Timeout(self.timeout)),
            other => other,
        }
    }

    /// Asks TCP to acknowledge what has been received at once, when the
    /// session waits for more of a command without having answered: a
    /// literal whose closing CRLF comes in a second write, SMTP's final
    /// dot, a BDAT chunk, a line sent in pieces. A client with Nagle's
    /// algorithm on (the default) holds that second write back until its
    /// first is acknowledged, and Linux delays the ACK of data nothing is
    /// sent back for by 40 ms: every such command took 44 ms (issue 13).
    /// TCP_QUICKACK (tcp(7)) sends the pending ACK now; the kernel drops
    /// back to delayed ACKs by itself once replies flow again, which then
    /// carry the ACKs. Once answered, a command needs no ACK of its own.
    ///
    /// Once per wait that follows a reply: setting it also takes the socket
    /// out of interactive mode, and until we send again the kernel then
    /// acknowledges a short segment itself when a read drains the buffer
    /// (tcp_cleanup_rbuf). Setting it on every read of a long literal or
    /// DATA cost a system call per read and an ACK per segment (review of
    /// issue 13, finding 8).
    fn acknowledge_now(&mut self) {
        if let Some(quick_ack) = self.quick_ack {
            self.quick_acks += 1;
            quick_ack(&self.stream);
        }
    }

    /// Writes all queued output, within the timeout.
    pub async fn flush(&mut self) -> io::Result<()> {
        if self.output.is_empty() {
            return Ok(());
        }
        let compressed;
        let bytes = if self.deflate.is_some() {
            // Each batch with a sync flush, so the peer has all of it at
            // once (RFC 4978 §4); the buffer goes when the batch is out.
            let mut out = Vec::new();
            deflate::deflate_batch(&self.output, &mut out)?;
            compressed = out;
            &compressed
        } else {
            &self.output
        };
        let stream = &mut self.stream;
        let write = async {
            stream.write_all(bytes).await?;
            stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Ok(result) => {
                self.output.clear();
                if self.output.capacity() > RETAINED {
                    self.output = Vec::new();
                }
                result
            }
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading")),
        }
    }

    /// Flushes and closes the write side.
    pub async fn close(&mut self) {
        if self.flush().await.is_ok() {
            let _ = tokio::time::timeout(self.timeout, self.stream.shutdown()).await;
        }
    }

    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// See [`Stream::tls_parameters`].
    pub fn tls_parameters(&self) -> Option<(String, String)> {
        self.stream.tls_parameters()
    }

    /// Upgrades to TLS after the STARTTLS/STLS reply has been queued. Input
    /// must be empty: anything the client sent before the handshake was
    /// sent in the clear and must not be read as if it came over TLS
    /// (CVE-2011-0411); the caller refuses such a client before calling.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        debug_assert!(self.buffered().is_empty());
        self.flush().await?;
        self.input.clear();
        self.start = 0;
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(io::Error::other("TLS is already active"));
        };
        let accepted = tokio::time::timeout(self.timeout, acceptor.accept(plain))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))
            .and_then(|accepted| accepted);
        if !self.service.is_empty() {
            match &accepted {
                Ok(_) => metrics::TLS_HANDSHAKES.inc(self.service),
                Err(_) => metrics::TLS_HANDSHAKE_FAILURES.inc(self.service),
            }
        }
        self.stream = Stream::Tls(Box::new(accepted?.into()));
        Ok(())
    }

    /// The client side of STARTTLS: after the server's 220, handshake as
    /// client for `server_name`.
    pub async fn start_tls_client(
        &mut self,
        connector: &TlsConnector,
        server_name: ServerName<'static>,
    ) -> io::Result<()> {
        self.flush().await?;
        self.input.clear();
        self.start = 0;
        let Stream::Plain(plain) = std::mem::replace(&mut self.stream, Stream::Gone) else {
            return Err(io::Error::other("TLS is already active"));
        };
        let tls = tokio::time::timeout(self.timeout, connector.connect(server_name, plain))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        self.stream = Stream::Tls(Box::new(tls.into()));
        Ok(())
    }

    /// Connects with TLS from the start (RFC 8314 implicit TLS), as client.
    pub async fn connect_tls(
        stream: S,
        connector: &TlsConnector,
        server_name: ServerName<'static>,
        timeout: Duration,
    ) -> io::Result<Self> {
        let tls = tokio::time::timeout(timeout, connector.connect(server_name, stream))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        Ok(Connection::new(Stream::Tls(Box::new(tls.into())), timeout))
    }

    /// A server's side of a new connection: TLS first for an implicit-TLS
    /// port (RFC 8314), plain otherwise (STARTTLS may follow). A TCP
    /// stream's socket is kept for [`Self::acknowledge_now`]; the sessions
    /// are generic over their stream (tests use in-memory ones), so it is
    /// found by its type here.
    pub async fn open(stream: S, tls: Option<&TlsAcceptor>, implicit_tls: bool, timeout: Duration) -> io::Result<Self>
    where
        S: 'static,
    {
        let tcp = (&stream as &dyn Any).is::<tokio::net::TcpStream>();
        let mut connection = match (tls, implicit_tls) {
            (Some(tls), true) => Self::accept_tls(stream, tls, timeout).await?,
            _ => Connection::new(Stream::Plain(stream), timeout),
        };
        if tcp {
            connection.quick_ack = Some(quick_ack::<S>);
        }
        Ok(connection)
    }

    /// Accepts TLS on a connection that starts with it (RFC 8314 implicit TLS).
    pub async fn accept_tls(stream: S, acceptor: &TlsAcceptor, timeout: Duration) -> io::Result<Self> {
        let tls = tokio::time::timeout(timeout, acceptor.accept(stream))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
        Ok(Connection::new(Stream::Tls(Box::new(tls.into())), timeout))
    }
}

/// Sets TCP_QUICKACK on the TCP stream under `stream`, plain or beneath
/// TLS. A failure only means a delayed ACK, so it is ignored.
fn quick_ack<S: 'static>(stream: &Stream<S>) {
    let io = match stream {
        Stream::Plain(io) => io,
        Stream::Tls(tls) => tls.get_ref().0,
        Stream::Gone => return,
    };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(tcp) = (io as &dyn Any).downcast_ref::<tokio::net::TcpStream>() {
        let _ = socket2::SockRef::from(tcp).set_tcp_quickack(true);
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = io;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn buffers_input_and_flushes_output_before_reading() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        let (mut client_read, mut client_write) = tokio::io::split(client);
        client_write.write_all(b"HELLO\r\n").await.unwrap();
        conn.send(b"+OK\r\n");
        assert_eq!(conn.fill().await.unwrap(), 7);
        assert_eq!(conn.buffered(), b"HELLO\r\n");
        conn.consume(5);
        assert_eq!(conn.buffered(), b"\r\n");
        let mut reply = [0u8; 5];
        client_read.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"+OK\r\n");
    }

    #[tokio::test]
    async fn a_line_being_skipped_must_still_arrive_within_the_timeout() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_millis(600));
        // Each byte comes well within the timeout; the line never ends.
        let writer = tokio::spawn(async move {
            let mut client = client;
            while client.write_all(b"x").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        let started = Instant::now();
        let skipped = tokio::time::timeout(Duration::from_secs(5), conn.skip_line()).await;
        assert!(matches!(skipped, Ok(Err(ReadError::Timeout(_)))), "{skipped:?}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
        writer.abort();
    }

    #[tokio::test]
    async fn skips_a_long_line_in_pieces() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        let writer = tokio::spawn(async move {
            let mut client = client;
            client.write_all(&vec![b'x'; 300_000]).await.unwrap();
            client.write_all(b"\r\nNEXT\r\n").await.unwrap();
            client
        });
        conn.fill().await.unwrap();
        conn.skip_line().await.unwrap();
        while conn.buffered().len() < 6 {
            conn.fill().await.unwrap();
        }
        assert_eq!(conn.buffered(), b"NEXT\r\n");
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn a_command_dripping_in_byte_by_byte_times_out() {
        let (client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_millis(300));
        let drip = tokio::spawn(async move {
            let mut client = client;
            for byte in b"NOOP with a very slow line" {
                if client.write_all(&[*byte]).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            client
        });
        let started = Instant::now();
        let result = loop {
            match conn.fill_command().await {
                Ok(_) => continue,
                Err(e) => break e,
            }
        };
        assert!(matches!(result, ReadError::Timeout(_)), "{result:?}");
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "each byte came in time, the line did not"
        );
        drip.abort();
    }

    #[tokio::test]
    async fn a_silent_peer_times_out() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_millis(50));
        assert!(matches!(conn.fill().await, Err(ReadError::Timeout(_))));
    }

    #[tokio::test]
    async fn a_closed_peer_is_reported() {
        let (client, server) = tokio::io::duplex(1024);
        drop(client);
        let mut conn = Connection::new(Stream::Plain(server), Duration::from_secs(5));
        assert!(matches!(conn.fill().await, Err(ReadError::Closed)));
    }

    /// TCP_QUICKACK is set once while a command comes in over several
    /// reads, not once per read; again only after a reply went out, which
    /// may have put the socket back into delayed ACKs.
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn quick_ack_is_set_once_per_wait_after_a_reply() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let mut conn = Connection::open(server, None, false, Duration::from_secs(5))
            .await
            .unwrap();
        // A command in five pieces, each read on its own.
        for piece in [&b"APPEND "[..], b"INBOX ", b"{3+}\r\n", b"abc", b"\r\n"] {
            client.write_all(piece).await.unwrap();
            let before = conn.buffered().len();
            while conn.buffered().len() < before + piece.len() {
                conn.fill().await.unwrap();
            }
        }
        assert_eq!(conn.quick_acks, 1);
        conn.consume(conn.buffered().len());
        // Answered: the reply carries the ACK; the wait after it sets none.
        conn.send(b"t OK\r\n");
        client.write_all(b"NOOP").await.unwrap();
        conn.fill().await.unwrap();
        assert_eq!(conn.quick_acks, 1);
        // A wait without a reply before it sets it again, once.
        for piece in [&b" x"[..], b" y", b"\r\n"] {
            client.write_all(piece).await.unwrap();
            let before = conn.buffered().len();
            while conn.buffered().len() < before + piece.len() {
                conn.fill().await.unwrap();
            }
        }
        assert_eq!(conn.quick_acks, 2);
    }
}
