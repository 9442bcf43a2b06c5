//! The SMTP session target: a real `smtpd::Server` with a small in-memory
//! backend that accepts mail for one account and records what it was
//! handed, so the checker can compare accepted messages with 250s.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use auth::{Throttle, ThrottleConfig};
use smtpd::{AcceptError, Backend, BackendError, Client, Filing, Login, RcptVerdict, Role, Server, SmtpConfig};
use tokio::runtime::Runtime;
use wire::smtp::{MailObject, RcptPath, Reply, ReversePath};

use crate::smtp_check::{SmtpFacts, check_smtp};
use crate::transcript::{Transcript, Violation, check_memory};

/// The hosted domain and its one account (password [`crate::PASSWORD`]).
pub const DOMAIN: &str = "example.org";
pub const USER: &str = "alice@example.org";
/// Small limits, so that one input reaches them.
pub const MAX_MESSAGE_SIZE: usize = 16 * 1024;
pub const MAX_LINE: usize = 512;
/// Our Received header and the submission fix-ups (Message-ID, Date) come
/// on top of what the client sent.
const HEADER_ALLOWANCE: usize = 4096;
/// The heap one session may hold: the runtime's
/// task, the connection's buffers (two reads of 64 KiB at most), a
/// message, its copy for the backend.
const MEMORY_BASE: usize = 512 * 1024;

/// What the backend was handed in one session.
#[derive(Default)]
struct Accepted {
    count: usize,
    largest: usize,
}

/// Accepts mail for the hosted account and postmaster; recipients
/// elsewhere are relayed only when the session may relay.
struct FuzzBackend {
    ids: AtomicU64,
    accepted: Mutex<Accepted>,
}

impl Backend for FuzzBackend {
    type SenderChecks = ();

    async fn check_sender(&self, _client: Client<'_>, _from: &ReversePath) -> Result<(), Reply> {
        Ok(())
    }

    async fn check_message(&self, _: Option<()>, _: &smtpd::Envelope<'_>, _: &mut Vec<u8>) -> Result<Filing, Reply> {
        Ok(Filing::Inbox)
    }

    async fn check_recipient(&self, recipient: &RcptPath, may_relay: bool) -> Result<RcptVerdict, BackendError> {
        let mailbox = match recipient {
            RcptPath::Postmaster => return Ok(RcptVerdict::Accept(format!("postmaster@{DOMAIN}"))),
            RcptPath::Mailbox(mailbox) => mailbox,
        };
        let address = mailbox.to_string().to_lowercase();
        Ok(if !mailbox.domain.eq_ignore_ascii_case(DOMAIN) {
            if may_relay {
                RcptVerdict::Accept(address)
            } else {
                RcptVerdict::RelayDenied
            }
        } else if address == USER {
            RcptVerdict::Accept(address)
        } else {
            RcptVerdict::UnknownUser
        })
    }

    async fn login(&self, name: &str) -> Result<Option<Login>, BackendError> {
        Ok(name.eq_ignore_ascii_case(USER).then(|| Login {
            address: USER.to_string(),
            password_hash: crate::password_hash().to_string(),
        }))
    }

    async fn may_send_as(&self, user: &str, from: &ReversePath) -> Result<bool, BackendError> {
        Ok(match from {
            ReversePath::Null => true,
            ReversePath::Mailbox(m) => m.to_string().eq_ignore_ascii_case(user),
        })
    }

    fn new_message_id(&self) -> String {
        format!("Q{}", self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }

    async fn accept(&self, message: MailObject) -> Result<(), AcceptError> {
        let mut accepted = self.accepted.lock().unwrap_or_else(|p| p.into_inner());
        accepted.count += 1;
        accepted.largest = accepted.largest.max(message.content.len());
        Ok(())
    }
}

/// The session's settings: small limits, no delays (a failed login is
/// answered at once), no greeting wait, cleartext AUTH allowed (no TLS).
pub fn config() -> SmtpConfig {
    SmtpConfig {
        hostname: "mx.example.org".into(),
        max_message_size: MAX_MESSAGE_SIZE,
        max_recipients: 5,
        max_line_length: MAX_LINE,
        max_errors: 10,
        timeout: Duration::from_secs(600),
        allow_cleartext_auth: true,
        pregreet_wait: Duration::ZERO,
        ..SmtpConfig::default()
    }
}

/// No waits after failed logins: the target tests answers, not timing.
pub fn throttle() -> Arc<Throttle> {
    Arc::new(Throttle::new(ThrottleConfig {
        failure_delay: Duration::ZERO,
        max_delay: Duration::ZERO,
        ..ThrottleConfig::default()
    }))
}

thread_local! {
    static RUNTIME: RefCell<Option<Runtime>> = const { RefCell::new(None) };
}

/// Runs one input (see `input` for the encoding) and checks it; the first
/// broken invariant is returned.
pub fn run(data: &[u8]) -> Result<(), Violation> {
    session(data).map(drop)
}

/// [`run`], giving back the transcript of a session that passed.
pub fn session(data: &[u8]) -> Result<Transcript, Violation> {
    let input = crate::input::decode(data);
    let role = if input.alternate { Role::Submission } else { Role::Mx };
    let backend = Arc::new(FuzzBackend {
        ids: AtomicU64::new(0),
        accepted: Mutex::new(Accepted::default()),
    });
    let server = Server::new(config(), backend.clone(), None, throttle());
    let facts = |backend: &FuzzBackend| {
        let accepted = backend.accepted.lock().unwrap_or_else(|p| p.into_inner());
        SmtpFacts {
            accepted: accepted.count,
            largest: accepted.largest,
            max_message_size: MAX_MESSAGE_SIZE + HEADER_ALLOWANCE,
            max_line: MAX_LINE,
        }
    };
    let peer: SocketAddr = SocketAddr::from(([192, 0, 2, 1], 25));
    let run = RUNTIME.with_borrow_mut(|runtime| {
        let runtime = runtime.get_or_insert_with(crate::driver::runtime);
        crate::driver::drive(
            runtime,
            &input.chunks,
            |stream| net::session(server, stream, peer, role),
            |transcript| check_smtp(transcript, &facts(&backend)),
        )
    })?;
    check_smtp(&run.transcript, &facts(&backend))?;
    check_memory(run.peak, MEMORY_BASE)?;
    Ok(run.transcript)
}
