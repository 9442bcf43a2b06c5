//! The change bus across nodes, on PostgreSQL: what one node's store
//! announces reaches the sessions of every other node on the same database
//! through LISTEN/NOTIFY on the channel [`CHANNEL`].
//!
//! Each store keeps one connection of its own for it, driven by a task on
//! the store's PostgreSQL runtime (`sql::pg`): it LISTENs, hands what it
//! hears to the local bus, and sends this store's own changes as NOTIFY.
//! - A notice is `<instance>:<id>,<id>,...`, the mailbox ids of one or more
//!   changes and the random id of the store that made them; an id written
//!   `a<id>` is an account whose mailbox list or subscriptions changed
//!   (`Change::Account`, for NOTIFY). A store of an older version reads a
//!   notice with one as unreadable, and so looks at everything afresh. The sending
//!   connection hears its own notices too (PostgreSQL delivers to every
//!   listener, the sender included); the instance id is how it knows them
//!   and leaves them out, as the local bus had them already.
//! - NOTIFY is sent after the change committed (`Store::announce` runs
//!   once the write returned), and PostgreSQL delivers a notice only once
//!   its own transaction has committed (NOTIFY docs), so a node that reads
//!   on hearing it sees the change.
//! - `announce` only queues the id: it is on the delivery path. Ids queued
//!   while a NOTIFY is on its way go together in the next one, without a
//!   timer (as group commit does), in as many notices as the 8000-byte
//!   payload limit asks for, all in one transaction.
//! - A NOTIFY transaction takes a lock on the notification queue that it
//!   holds through its commit (PostgreSQL's async.c); this connection
//!   commits with `synchronous_commit = off` so that it never holds it
//!   through a WAL flush: a notice needs no durability.
//! - When the connection is lost (server restart, `pg_terminate_backend`,
//!   a failed keepalive query) it is opened again with a bounded backoff.
//!   Notices sent meanwhile by other nodes are gone, so once listening
//!   again the store tells its listeners to look at everything afresh
//!   (`Change::Everything`, which they get as `Lagged`). This store's own
//!   ids not yet sent are kept and sent on the new connection.
//!
//! What is not covered: a node that dies between a commit and its NOTIFY
//! leaves the others unaware of that one change until the next one in the
//! same mailbox, or until a session asks (NOOP, SELECT).

use std::collections::BTreeSet;
use std::future::{Future, poll_fn};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_postgres::{AsyncMessage, Client};

use crate::changes::Change;
use crate::sql::pg::PgRuntime;
use crate::{DatabaseError, Error, Result};

/// The NOTIFY channel of the change bus.
pub const CHANNEL: &str = "postamt_changes";

/// The `application_name` of each store's bus connection, by which an
/// administrator (or a test) finds it in `pg_stat_activity`.
pub const APPLICATION_NAME: &str = "postamt changes";

/// Room for a notice's payload: PostgreSQL takes less than 8000 bytes
/// (NOTIFY docs); the rest is margin.
const PAYLOAD_LIMIT: usize = 7900;

/// The first wait before opening a lost connection again, doubled after
/// each failure up to [`LONGEST_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(100);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

/// A connection that has been silent this long is asked a query, so that
/// one lost without a word (a peer gone from the network) is noticed;
/// unanswered within [`KEEPALIVE_TIMEOUT`], it counts as lost.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(10);

type Connection = crate::sql::pg_tls::PgConnection;

/// Sends this store's changes to the other nodes; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Publisher {
    ids: mpsc::UnboundedSender<Change>,
}

impl Publisher {
    /// Queues `change` for the next NOTIFY; never waits.
    pub(crate) fn publish(&self, change: Change) {
        // Gone only when the runtime stopped, with the store.
        let _ = self.ids.send(change);
    }
}

/// Opens the bus connection to `url` and starts listening on it; returns
/// once it listens, so that no change committed after the store opened is
/// missed. The bus ends when the last [`Publisher`] is dropped.
pub(crate) async fn start(url: &str, runtime: &PgRuntime, local: broadcast::Sender<Change>) -> Result<Publisher> {
    let (ids, outgoing) = mpsc::unbounded_channel();
    let bus = Bus {
        url: url.to_string(),
        instance: instance_id()?,
        local,
        outgoing,
        pending: BTreeSet::new(),
    };
    let (ready, listening) = oneshot::channel();
    runtime.spawn(async move {
        match bus.connect().await {
            Ok((client, connection)) => {
                let _ = ready.send(Ok(()));
                bus.run(client, connection).await;
            }
            Err(lost) => {
                let _ = ready.send(Err(lost));
            }
        }
    });
    match listening.await {
        Ok(Ok(())) => Ok(Publisher { ids }),
        Ok(Err(Lost::Failed(error))) => Err(error.into()),
        Ok(Err(Lost::Unopened(error))) => Err(error),
        Ok(Err(Lost::Closed | Lost::Silent)) | Err(_) => Err(Error::io(
            std::path::Path::new(CHANNEL),
            std::io::Error::other("the change bus connection closed while it was being opened"),
        )),
    }
}

/// 64 random bits in hex: which store sent a notice.
fn instance_id() -> Result<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    SystemRandom::new().fill(&mut bytes).map_err(|_| {
        Error::io(
            std::path::Path::new(CHANNEL),
            std::io::Error::other("the system random generator failed"),
        )
    })?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// How the bus connection ended.
enum Lost {
    Failed(tokio_postgres::Error),
    /// The connection could not be opened (its URL, or its TLS).
    Unopened(crate::Error),
    Closed,
    /// The keepalive query went unanswered.
    Silent,
}

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Lost::Failed(error) => write!(f, "{error}"),
            Lost::Unopened(error) => write!(f, "{error}"),
            Lost::Closed => f.write_str("the server closed the connection"),
            Lost::Silent => write!(f, "no answer to a keepalive query within {KEEPALIVE_TIMEOUT:?}"),
        }
    }
}

impl From<tokio_postgres::Error> for Lost {
    fn from(error: tokio_postgres::Error) -> Lost {
        Lost::Failed(error)
    }
}

impl From<crate::Error> for Lost {
    fn from(error: crate::Error) -> Lost {
        match error {
            crate::Error::Database(DatabaseError::Postgres(error)) => Lost::Failed(error),
            error => Lost::Unopened(error),
        }
    }
}

/// The task that runs the bus connection.
struct Bus {
    url: String,
    instance: String,
    local: broadcast::Sender<Change>,
    /// This store's changes, from `announce`.
    outgoing: mpsc::UnboundedReceiver<Change>,
    /// Changes taken from `outgoing` and not yet sent.
    pending: BTreeSet<Change>,
}

impl Bus {
    async fn run(mut self, mut client: Client, mut connection: Connection) {
        loop {
            let Some(lost) = self.serve(&client, &mut connection).await else {
                return;
            };
            tracing::warn!(error = %lost, "lost the change bus connection to PostgreSQL; opening it again");
            let since = Instant::now();
            let Some((attempts, reopened)) = self.reconnect().await else {
                return;
            };
            (client, connection) = reopened;
            tracing::info!(
                attempts,
                down_ms = since.elapsed().as_millis() as u64,
                "the change bus listens again; sessions look at their mailboxes afresh"
            );
            let _ = self.local.send(Change::Everything);
        }
    }

    /// Opens the connection and LISTENs on it.
    async fn connect(&self) -> Result<(Client, Connection), Lost> {
        let (client, mut connection) = crate::sql::pg_tls::connect(&self.url).await?;
        let setup =
            format!("SET application_name = '{APPLICATION_NAME}'; SET synchronous_commit = off; LISTEN {CHANNEL}");
        self.drive(&mut connection, client.batch_execute(&setup)).await?;
        Ok((client, connection))
    }

    /// Opens the connection again, waiting longer after each failure;
    /// the attempts it took, or None once the store is gone.
    async fn reconnect(&mut self) -> Option<(u32, (Client, Connection))> {
        let mut wait = FIRST_RETRY;
        let mut attempt = 0;
        loop {
            if !self.gather_until(Instant::now() + wait).await {
                return None;
            }
            attempt += 1;
            match self.connect().await {
                Ok(connected) => return Some((attempt, connected)),
                Err(error) => tracing::debug!(%error, attempt, "the change bus cannot reach PostgreSQL yet"),
            }
            wait = (wait * 2).min(LONGEST_RETRY);
        }
    }

    /// Takes this store's changes into `pending` until `deadline`; false
    /// if the store is gone.
    async fn gather_until(&mut self, deadline: Instant) -> bool {
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => return true,
                id = self.outgoing.recv() => match id {
                    Some(id) => {
                        self.pending.insert(id);
                    }
                    None => return false,
                },
            }
        }
    }

    /// Listens and sends until the connection is lost (Some) or the store
    /// is gone (None).
    async fn serve(&mut self, client: &Client, connection: &mut Connection) -> Option<Lost> {
        let mut keepalive = Instant::now() + KEEPALIVE_INTERVAL;
        loop {
            while let Ok(id) = self.outgoing.try_recv() {
                self.pending.insert(id);
            }
            if !self.pending.is_empty() {
                // The ids stay pending until sent: on a lost connection
                // they go again on the next.
                let notify = self.notify_sql();
                if let Err(lost) = self.drive(connection, client.batch_execute(&notify)).await {
                    return Some(lost);
                }
                self.pending.clear();
                keepalive = Instant::now() + KEEPALIVE_INTERVAL;
                continue;
            }
            tokio::select! {
                id = self.outgoing.recv() => match id {
                    Some(id) => {
                        self.pending.insert(id);
                    }
                    None => return None,
                },
                message = poll_fn(|cx| connection.poll_message(cx)) => {
                    if let Err(lost) = self.heard(message) {
                        return Some(lost);
                    }
                    keepalive = Instant::now() + KEEPALIVE_INTERVAL;
                }
                () = tokio::time::sleep_until(keepalive) => {
                    let answered = tokio::time::timeout(
                        KEEPALIVE_TIMEOUT,
                        self.drive(connection, client.batch_execute("SELECT 1")),
                    );
                    match answered.await {
                        Ok(Ok(())) => {}
                        Ok(Err(lost)) => return Some(lost),
                        Err(_) => return Some(Lost::Silent),
                    }
                    keepalive = Instant::now() + KEEPALIVE_INTERVAL;
                }
            }
        }
    }

    /// Runs `request` (a query of `connection`'s client) to its end, while
    /// polling the connection, which does the query's I/O and meanwhile
    /// may hear notices.
    async fn drive<T>(
        &self,
        connection: &mut Connection,
        request: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, Lost> {
        let mut request = std::pin::pin!(request);
        loop {
            tokio::select! {
                done = &mut request => return Ok(done?),
                message = poll_fn(|cx| connection.poll_message(cx)) => self.heard(message)?,
            }
        }
    }

    /// Takes in what the connection said: a notice of other nodes' changes
    /// goes to the local bus.
    fn heard(&self, message: Option<Result<AsyncMessage, tokio_postgres::Error>>) -> Result<(), Lost> {
        let notification = match message {
            Some(Ok(AsyncMessage::Notification(notification))) => notification,
            // A server NOTICE, or what later versions may add.
            Some(Ok(_)) => return Ok(()),
            Some(Err(error)) => return Err(Lost::Failed(error)),
            None => return Err(Lost::Closed),
        };
        if notification.channel() != CHANNEL {
            return Ok(());
        }
        match parse(notification.payload()) {
            Some((instance, _)) if instance == self.instance => {}
            Some((_, changes)) => {
                for change in changes {
                    let _ = self.local.send(change);
                }
            }
            None => {
                // Not from a store of this version: whatever it meant,
                // the sessions look again.
                tracing::warn!(payload = notification.payload(), "an unreadable change notice");
                let _ = self.local.send(Change::Everything);
            }
        }
        Ok(())
    }

    /// NOTIFY statements for the pending ids, each payload within the
    /// limit. Payloads are hex, digits, `:` and `,`: nothing to quote.
    fn notify_sql(&self) -> String {
        let mut statements = Vec::new();
        let mut payload = String::new();
        for change in &self.pending {
            let id = match change {
                Change::Mailbox(mailbox) => mailbox.to_string(),
                Change::Account(account) => format!("a{account}"),
                // Only heard, never announced.
                Change::Everything => continue,
            };
            if !payload.is_empty() && payload.len() + 1 + id.len() > PAYLOAD_LIMIT {
                statements.push(format!("NOTIFY {CHANNEL}, '{payload}'"));
                payload.clear();
            }
            if payload.is_empty() {
                payload = format!("{}:{id}", self.instance);
            } else {
                payload.push(',');
                payload.push_str(&id);
            }
        }
        statements.push(format!("NOTIFY {CHANNEL}, '{payload}'"));
        statements.join("; ")
    }
}

/// A notice's sender and changes; None if it is not one of ours.
fn parse(payload: &str) -> Option<(&str, Vec<Change>)> {
    let (instance, ids) = payload.split_once(':')?;
    let ids = ids
        .split(',')
        .map(|id| match id.strip_prefix('a') {
            Some(account) => account.parse().ok().map(Change::Account),
            None => id.parse().ok().map(Change::Mailbox),
        })
        .collect::<Option<Vec<_>>>()?;
    Some((instance, ids))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::MailboxId;

    fn bus(pending: impl IntoIterator<Item = Change>) -> Bus {
        let (_, outgoing) = mpsc::unbounded_channel();
        Bus {
            url: String::new(),
            instance: "00ff00ff00ff00ff".into(),
            local: broadcast::channel(1).0,
            outgoing,
            pending: pending.into_iter().collect(),
        }
    }

    #[test]
    fn a_few_changes_go_in_one_notice() {
        assert_eq!(
            bus([7, 3, 7, 12].map(Change::Mailbox)).notify_sql(),
            "NOTIFY postamt_changes, '00ff00ff00ff00ff:3,7,12'"
        );
    }

    /// Account changes (NOTIFY's mailbox list events) travel beside
    /// mailbox changes and are read back as what they were.
    #[test]
    fn account_changes_go_in_notices_too() {
        let sql = bus([Change::Mailbox(3), Change::Account(5), Change::Account(5)]).notify_sql();
        assert_eq!(sql, "NOTIFY postamt_changes, '00ff00ff00ff00ff:3,a5'");
        assert_eq!(
            parse("00ff00ff00ff00ff:3,a5"),
            Some(("00ff00ff00ff00ff", vec![Change::Mailbox(3), Change::Account(5)]))
        );
    }

    /// Many changes at once take several notices, each under PostgreSQL's
    /// 8000-byte limit, and every id is in one of them.
    #[test]
    fn many_changes_are_split_under_the_payload_limit() {
        let ids: Vec<MailboxId> = (1_000_000_000..1_000_002_000).collect();
        let sql = bus(ids.iter().copied().map(Change::Mailbox)).notify_sql();
        let mut heard = Vec::new();
        let statements: Vec<&str> = sql.split("; ").collect();
        assert!(statements.len() > 1, "{} bytes in one notice", sql.len());
        for statement in statements {
            let payload = statement
                .strip_prefix("NOTIFY postamt_changes, '")
                .and_then(|rest| rest.strip_suffix('\''))
                .expect(statement);
            assert!(payload.len() < 8000, "a payload of {} bytes", payload.len());
            let (instance, mailboxes) = parse(payload).expect(payload);
            assert_eq!(instance, "00ff00ff00ff00ff");
            heard.extend(mailboxes);
        }
        assert_eq!(heard, ids.into_iter().map(Change::Mailbox).collect::<Vec<_>>());
    }

    #[test]
    fn notices_not_ours_are_not_read() {
        assert_eq!(
            parse("ab:1,2"),
            Some(("ab", vec![Change::Mailbox(1), Change::Mailbox(2)]))
        );
        assert_eq!(parse("ab:1,ax"), None);
        assert_eq!(parse("ab:1,x"), None);
        assert_eq!(parse("hello"), None);
    }
}
