//! NOTIFY (RFC 5465): the command, which checks what is asked and sets up
//! the session's [`Notifier`], and the delivery of what it watches, in
//! IDLE and while the session waits for the next command.
//!
//! - The selected mailbox (SELECTED, SELECTED-DELAYED) is brought up to
//!   date by `View::sync`, as NOOP would: EXISTS, FETCH FLAGS, and EXPUNGE
//!   when it may be sent. With SELECTED it may be sent with no command in
//!   progress (RFC 5465 §5.3 lifts RFC 9051 §7.5.1's rule for it); with
//!   SELECTED-DELAYED it waits for a command that allows it (§6). New
//!   messages get the FETCH items MessageNew asked for (§5.2).
//! - Other mailboxes are told as STATUS (§5.2-§5.4), mailbox list changes
//!   as LIST (§5.4 MailboxName, with OLDNAME for a rename), subscription
//!   changes as LIST with or without \Subscribed (§5.5).
//! - Changes missed (the bus said `Lagged`) are made good by comparing: the
//!   mailbox list is read again, and every watched mailbox's STATUS that
//!   differs from the last one sent is sent again.
//! - More than `max_notify_output` bytes of notifications at once, or more
//!   than `max_notify_mailboxes` watched, end NOTIFY with
//!   `* OK [NOTIFICATIONOVERFLOW]` (§5.8): the client is to look afresh.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast::error::RecvError;
use wire::imap::{EventGroup, FetchItem, MailboxFilter, Notify, NotifyEvent, StatusItem};

use crate::commands::mailbox::status_line;
use crate::error::{CommandError, Reply};
use crate::format::{client_mailbox, mailbox_name};
use crate::notifier::{Filter, Interest, ListChange, Notifier, SelectedInterest};
use crate::session::{Disconnect, Session, State};
use crate::view::View;
use crate::waiting::Wake;

/// The events this server takes (RFC 5465 §3.1: BADEVENT lists them).
/// MailboxMetadataChange and ServerMetadataChange are taken and, until
/// METADATA (RFC 5464) tells the bus of its changes, never occur.
const BADEVENT: &str = "BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange \
                        MailboxMetadataChange ServerMetadataChange)";

/// What NOTIFY SET asks: for the selected mailbox, and for the others.
type Interests = (Option<SelectedInterest>, Vec<(Filter, Interest)>);

/// The STATUS items of a notification for a mailbox not selected.
const STATUS_ITEMS: [StatusItem; 4] = [
    StatusItem::Messages,
    StatusItem::UidNext,
    StatusItem::UidValidity,
    StatusItem::Unseen,
];

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// NOTIFY SET / NOTIFY NONE (RFC 5465 §3.1). A refused NOTIFY leaves
    /// the notifications in effect before it as they were.
    pub(crate) async fn notify_command(
        &mut self,
        tag: &str,
        account: &store::Account,
        view: Option<&mut View>,
        notify: Notify,
    ) -> Reply {
        let (status, groups) = match notify {
            Notify::None => {
                self.notify = None;
                return self.ok(tag, "NOTIFY completed");
            }
            Notify::Set { status, groups } => (status, groups),
        };
        let (selected, others) = self.interests(groups)?;
        // Listening before the list is read: nothing is missed between.
        let changes = self.server.store.changes();
        let mut notifier = Notifier::new(changes, account.id, selected, others);
        notifier.refresh(&self.server.store).await?;
        let limit = self.config.max_notify_mailboxes;
        if notifier.watched_count() > limit {
            return Err(CommandError::no(
                "LIMIT",
                format!("NOTIFY may watch at most {limit} mailboxes"),
            ));
        }
        if status {
            // §3.1: a STATUS of each mailbox watched for message events,
            // the selected one aside, before the tagged OK.
            let selected = view.as_ref().map(|view| view.mailbox.id);
            let mut out = Vec::new();
            for (mailbox, _) in notifier.watched() {
                if Some(mailbox) != selected {
                    self.status_notice(&mut notifier, mailbox, &mut out).await?;
                }
            }
            self.conn.send(&out);
        }
        self.notify = Some(notifier);
        self.ok(tag, "NOTIFY completed")
    }

    /// Checks the event groups (RFC 5465 §5, §6) and turns them into what
    /// the notifier follows.
    fn interests(&self, groups: Vec<EventGroup>) -> Result<Interests, CommandError> {
        let mut selected = None;
        let mut others = Vec::new();
        for group in groups {
            let mut interest = Interest::default();
            let (mut new, mut expunge, mut fetch) = (false, false, Vec::new());
            for event in &group.events {
                match event {
                    NotifyEvent::MessageNew(items) => {
                        new = true;
                        fetch.clone_from(items);
                    }
                    NotifyEvent::MessageExpunge => expunge = true,
                    NotifyEvent::FlagChange => interest.flags = true,
                    NotifyEvent::MailboxName => interest.names = true,
                    NotifyEvent::SubscriptionChange => interest.subscriptions = true,
                    NotifyEvent::MailboxMetadataChange | NotifyEvent::ServerMetadataChange => {}
                    NotifyEvent::AnnotationChange | NotifyEvent::Other(_) => {
                        return Err(CommandError::no(BADEVENT, "Event not supported"));
                    }
                }
            }
            // §5: MessageNew and MessageExpunge go together, and FlagChange
            // needs them.
            if new != expunge {
                return Err(CommandError::bad("MessageNew and MessageExpunge go together"));
            }
            if interest.flags && !new {
                return Err(CommandError::bad("FlagChange needs MessageNew and MessageExpunge"));
            }
            interest.messages = new;
            check_fetch(&fetch, group.filter.is_selected(), self.config.max_fetch_items)?;
            let filter = match group.filter {
                MailboxFilter::Selected | MailboxFilter::SelectedDelayed => {
                    // §6: the selected mailbox takes message events only.
                    if group.events.iter().any(|event| !event.is_message_event()) {
                        return Err(CommandError::bad("SELECTED takes message events only"));
                    }
                    if selected.is_none() && new {
                        selected = Some(SelectedInterest {
                            delayed: group.filter == MailboxFilter::SelectedDelayed,
                            fetch,
                        });
                    }
                    continue;
                }
                MailboxFilter::Inboxes => Filter::Inboxes,
                MailboxFilter::Personal => Filter::Personal,
                MailboxFilter::Subscribed => Filter::Subscribed,
                MailboxFilter::Subtree(names) => Filter::Subtree(self.names(&names)?),
                MailboxFilter::Mailboxes(names) => Filter::Mailboxes(self.names(&names)?),
            };
            others.push((filter, interest));
        }
        Ok((selected, others))
    }

    fn names(&self, raw: &[Vec<u8>]) -> Result<Vec<String>, CommandError> {
        raw.iter()
            .map(|name| {
                client_mailbox(name, self.utf8)
                    .map(|name| name.trim_end_matches(store::SEPARATOR).to_string())
                    .ok_or_else(|| CommandError::bad("Invalid mailbox name"))
            })
            .collect()
    }

    /// Waits for the next command of a session with NOTIFY set, sending
    /// notifications meanwhile (RFC 5465 §3). The inactivity timeout counts
    /// from the client's last command, as in IDLE: notifications are not
    /// the client's doing.
    pub(crate) async fn wait_notifying(&mut self) -> Result<(), Disconnect> {
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        loop {
            if self.notify.is_none() || !self.conn.between_commands() {
                return self.read_more().await;
            }
            if let Err(e) = self.conn.flush().await {
                return Err(self.read_failed(net::ReadError::Io(e)).await);
            }
            match self.wake(deadline, false).await {
                Wake::Input(Ok(_)) => return Ok(()),
                Wake::Input(Err(e)) => return Err(self.read_failed(e).await),
                Wake::Stop => return Err(self.conn.end_for_stop().await),
                Wake::Notify(event) => {
                    let mut state = std::mem::replace(&mut self.state, State::NotAuthenticated);
                    let view = match &mut state {
                        State::Selected { view, .. } => Some(&mut **view),
                        _ => None,
                    };
                    let sent = self.notified(event, view, false).await;
                    self.state = state;
                    sent?;
                }
                Wake::Change(_) => {}
            }
        }
    }

    /// Sends what `event` means for the client and flushes it. `idle`: in
    /// IDLE, where EXPUNGE may always be sent.
    pub(crate) async fn notified(
        &mut self,
        event: Result<store::ChangeEvent, RecvError>,
        view: Option<&mut View>,
        idle: bool,
    ) -> Result<(), Disconnect> {
        let Some(mut notifier) = self.notify.take() else {
            return Ok(());
        };
        let start = self.conn.pending_output();
        let mut out = Vec::new();
        match self.notice(&mut notifier, event, view, idle, &mut out).await {
            Ok(()) => {}
            Err(CommandError::Disconnect) => return Err(Disconnect),
            Err(CommandError::Server(error)) => tracing::error!(%error, "could not send a notification"),
            // A FETCH item that could not be answered (UNKNOWN-CTE).
            Err(_) => tracing::debug!("a notification left out"),
        }
        self.conn.send(&out);
        let sent = self.conn.pending_output().saturating_sub(start);
        if sent > self.config.max_notify_output || notifier.watched_count() > self.config.max_notify_mailboxes {
            let output = self.conn.output();
            output.truncate(start.min(output.len()));
            self.untagged("OK [NOTIFICATIONOVERFLOW] Too many changes to tell; NOTIFY is off");
        } else {
            self.notify = Some(notifier);
        }
        self.conn.flush().await.map_err(|_| Disconnect)
    }

    async fn notice(
        &mut self,
        notifier: &mut Notifier,
        event: Result<store::ChangeEvent, RecvError>,
        view: Option<&mut View>,
        idle: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CommandError> {
        let selected = view.as_ref().map(|view| view.mailbox.id);
        match event {
            Ok(store::ChangeEvent::Mailbox(mailbox)) if Some(mailbox) == selected => {
                if let Some(view) = view {
                    self.notify_selected(notifier, view, idle, out).await?;
                }
            }
            Ok(store::ChangeEvent::Mailbox(mailbox)) => {
                if notifier.watches(mailbox) {
                    self.status_notice(notifier, mailbox, out).await?;
                }
            }
            Ok(store::ChangeEvent::Account(account)) => {
                if account == notifier.account() {
                    let changes = notifier.refresh(&self.server.store).await?;
                    self.list_notices(&changes, out);
                }
            }
            // Changes were missed: whatever differs from what the client
            // was told is told again.
            Err(RecvError::Lagged(_)) => {
                let changes = notifier.refresh(&self.server.store).await?;
                self.list_notices(&changes, out);
                for (mailbox, _) in notifier.watched() {
                    if Some(mailbox) != selected {
                        self.status_notice(notifier, mailbox, out).await?;
                    }
                }
                if let Some(view) = view {
                    self.notify_selected(notifier, view, idle, out).await?;
                }
            }
            Err(RecvError::Closed) => {}
        }
        Ok(())
    }

    /// The selected mailbox's changes, if SELECTED asked for them.
    async fn notify_selected(
        &mut self,
        notifier: &Notifier,
        view: &mut View,
        idle: bool,
        out: &mut Vec<u8>,
    ) -> Result<(), CommandError> {
        let Some(interest) = &notifier.selected else {
            return Ok(());
        };
        let last = view.last_uid();
        view.sync(&self.server.store, out, idle || !interest.delayed, self.ext)
            .await?;
        if !interest.fetch.is_empty() {
            let new: Vec<usize> = (0..view.len()).filter(|&index| view.uid(index) > last).collect();
            self.conn.send(&std::mem::take(out));
            self.fetch_notified(view, &new, &interest.fetch).await?;
        }
        Ok(())
    }

    /// `* STATUS` of a watched mailbox, if it differs from the last sent.
    async fn status_notice(
        &self,
        notifier: &mut Notifier,
        mailbox: store::MailboxId,
        out: &mut Vec<u8>,
    ) -> Result<(), CommandError> {
        let store = &self.server.store;
        let Some(info) = store.mailbox_info(mailbox).await? else {
            // Deleted meanwhile: MailboxName tells it, if asked.
            return Ok(());
        };
        let status = store.mailbox_status(&info).await?;
        // With CONDSTORE on, HIGHESTMODSEQ too (RFC 5465 §5.2, RFC 7162).
        let line = if self.ext.condstore {
            status_line(
                &status,
                &[&STATUS_ITEMS[..], &[StatusItem::HighestModSeq]].concat(),
                self.config.max_literal,
            )
        } else {
            status_line(&status, &STATUS_ITEMS, self.config.max_literal)
        };
        if notifier.status_changed(mailbox, status) {
            out.extend_from_slice(b"* STATUS ");
            mailbox_name(out, &info.name, self.utf8);
            out.extend_from_slice(format!(" ({line})\r\n").as_bytes());
        }
        Ok(())
    }

    /// LIST responses for mailbox list changes (RFC 5465 §5.4, §5.5).
    fn list_notices(&self, changes: &[ListChange], out: &mut Vec<u8>) {
        for change in changes {
            let (attributes, name, old) = match change {
                ListChange::Created(name) => ("", name, None),
                ListChange::Deleted(name) => ("\\NonExistent", name, None),
                ListChange::Renamed { from, to } => ("", to, Some(from)),
                ListChange::Subscribed(name, true) => ("\\Subscribed", name, None),
                ListChange::Subscribed(name, false) => ("", name, None),
            };
            out.extend_from_slice(format!("* LIST ({attributes}) \"{}\" ", store::SEPARATOR).as_bytes());
            mailbox_name(out, name, self.utf8);
            if let Some(old) = old {
                out.extend_from_slice(b" (\"OLDNAME\" (");
                mailbox_name(out, old, self.utf8);
                out.extend_from_slice(b"))");
            }
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// MessageNew's FETCH items (RFC 5465 §5.2): only for the selected mailbox,
/// and none that would set \Seen (a notification must not change what it
/// tells of).
fn check_fetch(items: &[FetchItem], selected: bool, max: usize) -> Result<(), CommandError> {
    if items.is_empty() {
        return Ok(());
    }
    if !selected {
        return Err(CommandError::bad(
            "MessageNew takes FETCH items for the selected mailbox only",
        ));
    }
    if items.len() > max {
        return Err(CommandError::bad("Too many FETCH items"));
    }
    let sets_seen = items.iter().any(|item| match item {
        FetchItem::BodySection { peek, .. } | FetchItem::Binary { peek, .. } => !peek,
        FetchItem::Rfc822 | FetchItem::Rfc822Text => true,
        _ => false,
    });
    if sets_seen {
        return Err(CommandError::bad(
            "MessageNew's FETCH items must not set \\Seen (use .PEEK)",
        ));
    }
    Ok(())
}
