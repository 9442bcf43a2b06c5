//! Runs one dialog file: a session over `tokio::io::duplex`, the client's
//! lines written as the file says, each server line compared in order.
//!
//! The format, one item per line (docs/design.md, "## Tests"):
//!
//! - `# ...` a comment (the first ones say why the scenario exists); blank
//!   lines are ignored.
//! - `@role mx|submission|submissions`, `@tls on` (STARTTLS offered, or
//!   the implicit TLS of submissions), `@peer <ip>` (10.0.0.0/8 is the
//!   trusted network; the default 192.0.2.1 is a stranger),
//!   `@config <key>=<value>`: set up the session; they come before the
//!   first `c:` line.
//! - `c: <text>` the client sends text and CRLF; `c| <text>` sends the text
//!   alone; a bare `c:` sends an empty line. `\r`, `\n`, `\t` and
//!   `\\` are escapes in all of them. `c+ <n> <text>` sends the text n
//!   times, for input larger than the pipe's buffer (64 KiB), which the
//!   session then has to read in parts. Consecutive client lines go out
//!   in one write, so they are pipelined.
//! - `s: <text>` the next server line is exactly this; `s~ <text>` it starts
//!   with this (to match a reply by its code and start).
//! - `tls` the client makes its TLS handshake (after `s: 220 2.0.0 Ready
//!   to start TLS`); later lines go through TLS.
//! - `closed` the server has closed the connection, having sent nothing
//!   more; `closed~` it closes after sending whatever it likes (a TLS
//!   alert, which is no SMTP line).
//! - `m~ <text>` the last message the backend accepted (its envelope as
//!   `MAIL FROM:`/`RCPT TO:` lines, a blank line, then the content)
//!   contains the text; `m! <text>` it does not; `messages: <n>` the
//!   backend accepted n messages.
//!
//! After the last line the client closes its side; the server must then
//! have nothing more to say.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use smtpd::{Role, Server, SmtpConfig};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use super::backend::TestBackend;

/// Long enough for any reply of an in-memory session, short enough that a
/// missing reply fails the test quickly.
const REPLY_WAIT: Duration = Duration::from_secs(5);

struct Setup {
    role: Role,
    peer: IpAddr,
    config: SmtpConfig,
    throttle: ThrottleConfig,
    /// Offer STARTTLS, with a fresh self-signed certificate.
    tls: bool,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            role: Role::Mx,
            peer: IpAddr::from([192, 0, 2, 1]),
            config: SmtpConfig {
                hostname: "mx.example.org".into(),
                trusted_networks: vec!["10.0.0.0/8".parse().expect("a network")],
                allow_cleartext_auth: true,
                pregreet_wait: Duration::ZERO,
                ..SmtpConfig::default()
            },
            // Failed logins are answered after a delay; keep it short here.
            throttle: ThrottleConfig {
                failure_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(1),
                ..ThrottleConfig::default()
            },
            tls: false,
        }
    }
}

impl Setup {
    fn directive(&mut self, line: &str) -> Result<(), String> {
        let (name, value) = line.split_once(' ').ok_or_else(|| format!("bad directive {line:?}"))?;
        match name {
            "@role" => {
                self.role = match value {
                    "mx" => Role::Mx,
                    "submission" => Role::Submission,
                    "submissions" => Role::Submissions,
                    _ => return Err(format!("unknown role {value:?}")),
                }
            }
            "@peer" => self.peer = value.parse().map_err(|_| format!("bad peer {value:?}"))?,
            "@config" => self.config_value(value)?,
            "@tls" => self.tls = value == "on",
            _ => return Err(format!("unknown directive {name:?}")),
        }
        Ok(())
    }

    fn config_value(&mut self, setting: &str) -> Result<(), String> {
        let (key, value) = setting
            .split_once('=')
            .ok_or_else(|| format!("bad setting {setting:?}"))?;
        let bad = || format!("bad value for {key}: {value:?}");
        let number = || value.parse::<u64>().map_err(|_| bad());
        let config = &mut self.config;
        match key {
            "max_message_size" => config.max_message_size = number()? as usize,
            "max_recipients" => config.max_recipients = number()? as usize,
            "max_line_length" => config.max_line_length = number()? as usize,
            "max_errors" => config.max_errors = number()? as u32,
            "allow_cleartext_auth" => config.allow_cleartext_auth = value.parse().map_err(|_| bad())?,
            "hide_client_ip" => config.hide_client_ip = value.parse().map_err(|_| bad())?,
            "pregreet_wait_ms" => config.pregreet_wait = Duration::from_millis(number()?),
            "timeout_ms" => config.timeout = Duration::from_millis(number()?),
            "max_auth_failures" => self.throttle.max_failures = number()? as u32,
            _ => return Err(format!("unknown setting {key:?}")),
        }
        Ok(())
    }
}

/// `\r`, `\n`, `\t` and `\\` in a client or expected line.
fn unescape(text: &str) -> String {
    text.replace("\\r", "\r")
        .replace("\\n", "\n")
        .replace("\\t", "\t")
        .replace("\\\\", "\\")
}

/// A dialog line with its line number in the file.
type Step<'a> = (usize, &'a str);

/// The setup and the dialog lines of a file.
fn parse(text: &str) -> Result<(Setup, Vec<Step<'_>>), String> {
    let mut setup = Setup::default();
    let mut steps = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('@') {
            if !steps.is_empty() {
                return Err(format!("line {}: setup after the dialog started", number + 1));
            }
            setup.directive(line).map_err(|e| format!("line {}: {e}", number + 1))?;
            continue;
        }
        // An empty client line loses its trailing space to trim_end.
        steps.push((number + 1, if line == "c:" { "c: " } else { line }));
    }
    Ok((setup, steps))
}

/// Replays one dialog; the error says which line of the file failed and why.
pub async fn run(text: &str) -> Result<(), String> {
    let (setup, steps) = parse(text)?;
    let backend = Arc::new(TestBackend::default());
    let throttle = Arc::new(Throttle::new(setup.throttle));
    let tls = if setup.tls { Some(acceptor()?) } else { None };
    let server = Server::new(setup.config, backend.clone(), tls, throttle);
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    let session = tokio::spawn(net::session(
        server,
        server_side,
        SocketAddr::new(setup.peer, 25),
        setup.role,
    ));
    let mut conn: BufReader<Box<dyn Stream>> = BufReader::new(Box::new(client));
    let mut pending = Vec::new();

    for (number, line) in steps {
        let at = |e: String| format!("line {number}: {e}");
        if let Some(text) = line.strip_prefix("c: ") {
            pending.extend_from_slice(unescape(text).as_bytes());
            pending.extend_from_slice(b"\r\n");
            continue;
        }
        if let Some(text) = line.strip_prefix("c| ") {
            pending.extend_from_slice(unescape(text).as_bytes());
            continue;
        }
        if let Some((count, text)) = line.strip_prefix("c+ ").and_then(|rest| rest.split_once(' ')) {
            let count: usize = count.parse().map_err(|_| at(format!("bad count {count:?}")))?;
            pending.extend_from_slice(unescape(text).repeat(count).as_bytes());
            continue;
        }
        send(conn.get_mut(), &mut pending).await.map_err(at)?;
        if line == "tls" {
            conn = start_tls(conn).await.map_err(at)?;
        } else if let Some(expected) = line.strip_prefix("s: ") {
            let got = read_line(&mut conn).await.map_err(at)?;
            if got != unescape(expected) {
                return Err(at(format!("expected {expected:?}, got {got:?}")));
            }
        } else if let Some(expected) = line.strip_prefix("s~ ") {
            let got = read_line(&mut conn).await.map_err(at)?;
            if !got.starts_with(&unescape(expected)) {
                return Err(at(format!("expected a line starting {expected:?}, got {got:?}")));
            }
        } else if line == "closed" {
            let rest = read_rest(&mut conn).await.map_err(at)?;
            if !rest.is_empty() {
                return Err(at(format!("expected the end, got {rest:?}")));
            }
        } else if line == "closed~" {
            read_rest(&mut conn).await.map_err(at)?;
        } else if let Some(checked) = check_stored(&backend, line) {
            checked.map_err(at)?;
        } else {
            return Err(at(format!("cannot read {line:?}")));
        }
    }

    // The client is done: whatever the server still says was not expected.
    send(conn.get_mut(), &mut pending).await?;
    let _ = conn.get_mut().shutdown().await;
    let rest = read_rest(&mut conn).await?;
    if !rest.is_empty() {
        return Err(format!("unexpected server output at the end: {rest:?}"));
    }
    tokio::time::timeout(REPLY_WAIT, session)
        .await
        .map_err(|_| "the session did not end after the client closed".to_string())?
        .map_err(|e| format!("the session panicked: {e}"))
}

/// A TLS acceptor with a self-signed certificate, made in a directory of
/// its own that is gone once the certificate is in memory.
fn acceptor() -> Result<net::TlsAcceptor, String> {
    static DIRS: AtomicU64 = AtomicU64::new(0);
    let n = DIRS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("smtpd-dialogs-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let acceptor = net::load_or_create_tls(None, None, &dir, "mx.example.org");
    let _ = std::fs::remove_dir_all(&dir);
    acceptor.map_err(|e| format!("no TLS: {e}"))
}

/// Checks a `messages:`, `m~` or `m!` line against what the backend
/// stored; `None` if the line is none of those.
fn check_stored(backend: &TestBackend, line: &str) -> Option<Result<(), String>> {
    if let Some(count) = line.strip_prefix("messages: ") {
        let Ok(count) = count.parse::<usize>() else {
            return Some(Err(format!("bad count {count:?}")));
        };
        let got = backend.messages.lock().map(|m| m.len()).unwrap_or(0);
        return Some(if got == count {
            Ok(())
        } else {
            Err(format!("expected {count} messages accepted, got {got}"))
        });
    }
    let (negate, text) = match (line.strip_prefix("m~ "), line.strip_prefix("m! ")) {
        (Some(text), _) => (false, text),
        (_, Some(text)) => (true, text),
        _ => return None,
    };
    let Some(last) = backend.messages.lock().ok().and_then(|m| m.last().cloned()) else {
        return Some(Err("no message was accepted".into()));
    };
    if last.contains(&unescape(text)) != negate {
        return Some(Ok(()));
    }
    let wanted = if negate { "not to contain" } else { "to contain" };
    let shown: String = last.chars().take(2000).collect();
    Some(Err(format!(
        "expected the message {wanted} {text:?}, it begins:\n{shown}"
    )))
}

/// The client's end of the pipe, in the clear or inside TLS.
trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// The client's TLS handshake after the server's 220 to STARTTLS; the
/// certificate is not checked (it is self-signed for this test).
async fn start_tls(conn: BufReader<Box<dyn Stream>>) -> Result<BufReader<Box<dyn Stream>>, String> {
    if !conn.buffer().is_empty() {
        return Err("the server said more before the handshake".into());
    }
    let connector = net::opportunistic_connector().map_err(|e| e.to_string())?;
    let name = net::server_name("mx.example.org").map_err(|e| e.to_string())?;
    let handshake = connector.connect(name, conn.into_inner());
    let stream = tokio::time::timeout(REPLY_WAIT, handshake)
        .await
        .map_err(|_| "no TLS handshake within 5 s".to_string())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    Ok(BufReader::new(Box::new(stream)))
}

async fn send<W: AsyncWriteExt + Unpin>(writer: &mut W, pending: &mut Vec<u8>) -> Result<(), String> {
    if pending.is_empty() {
        return Ok(());
    }
    // The server may already have closed: what it said before is what the
    // next lines check, so a failed write is not the failure itself.
    let _ = writer.write_all(pending).await;
    let _ = writer.flush().await;
    pending.clear();
    Ok(())
}

/// One server line without its CRLF, which it must have.
async fn read_line<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Result<String, String> {
    let mut line = Vec::new();
    match tokio::time::timeout(REPLY_WAIT, reader.read_until(b'\n', &mut line)).await {
        Err(_) => return Err("no reply within 5 s".into()),
        Ok(Err(e)) => return Err(format!("read failed: {e}")),
        Ok(Ok(0)) => return Err("the server closed the connection".into()),
        Ok(Ok(_)) => {}
    }
    let line = String::from_utf8_lossy(&line).into_owned();
    line.strip_suffix("\r\n")
        .map(str::to_string)
        .ok_or_else(|| format!("reply line without CRLF: {line:?}"))
}

/// Everything the server sends until it closes the connection.
async fn read_rest<R: AsyncReadExt + Unpin>(reader: &mut R) -> Result<String, String> {
    let mut rest = Vec::new();
    match tokio::time::timeout(REPLY_WAIT, reader.read_to_end(&mut rest)).await {
        Err(_) => Err(format!(
            "the server did not close the connection; it said {:?}",
            String::from_utf8_lossy(&rest)
        )),
        // A session that ends because the client left closes without a TLS
        // close_notify; for this client that is the end too.
        Ok(Err(e)) if e.kind() != std::io::ErrorKind::UnexpectedEof => Err(format!("read failed: {e}")),
        Ok(_) => Ok(String::from_utf8_lossy(&rest).into_owned()),
    }
}
