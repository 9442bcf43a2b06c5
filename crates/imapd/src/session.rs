//! One IMAP session: the states of RFC 9051 §3 (not authenticated,
//! authenticated, selected), the command loop with literal continuations,
//! and the rules for when updates from elsewhere may be reported.

use std::net::SocketAddr;
use std::sync::Arc;

use net::{Connection, ReadError};
use store::Account;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::broadcast;
use wire::imap::{Command, CommandBody, Frame, Framer, Limits, ParseError, Refusal, parse_command};

use crate::commands::{FlagStore, ListCommand, MetadataQuery, SortCommand};
use crate::error::{CommandError, Reply};
use crate::server::Server;
use crate::view::{Extensions, View};

// One per session, moved rarely (at SELECT and CLOSE): the selected
// state's size costs nothing worth a box on every access to the view.
#[allow(clippy::large_enum_variant)]
pub(crate) enum State {
    NotAuthenticated,
    Authenticated {
        account: Account,
    },
    /// The view boxed: it is most of the state's size.
    Selected {
        account: Account,
        view: Box<View>,
    },
}

pub(crate) use net::{Disconnect, Flow, Outcome};

/// Said to a client that stayed silent too long, before hanging up
/// (RFC 9051 §7.1.5).
const AUTOLOGOUT: &[u8] = b"* BYE Autologout; idle for too long\r\n";

pub(crate) struct Session<S> {
    pub conn: Connection<S>,
    pub server: Arc<Server>,
    /// The server's settings when this session began: a reload changes
    /// later sessions, not this one (see `net::Live`).
    pub config: Arc<crate::ImapConfig>,
    pub peer: SocketAddr,
    pub state: State,
    /// ENABLE IMAP4rev2 or UTF8=ACCEPT: UTF-8 mailbox names and rev2
    /// answers (RFC 9051 §6.3.1, RFC 6855).
    pub rev2: bool,
    pub utf8: bool,
    /// UIDs saved by SEARCH RETURN (SAVE) (RFC 5182), for `$`.
    pub saved: Vec<i64>,
    /// CONDSTORE and QRESYNC, once enabled (RFC 7162 §3.1, §3.2.3).
    pub ext: Extensions,
    /// The change bus, once logged in. `Lagged` from it (this session fell
    /// behind, or another node's changes were lost) makes the session read
    /// its mailbox afresh.
    pub changes: Option<store::Changes>,
    /// What NOTIFY (RFC 5465) watches, when set.
    pub notify: Option<crate::notifier::Notifier>,
    /// This session's place in its account's session count.
    pub user_slot: Option<crate::server::UserSlot>,
    /// SEARCH and SORT results kept up to date (RFC 5267 §4.3).
    pub contexts: crate::commands::Contexts,
    errors: u32,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    pub fn new(conn: Connection<S>, server: Arc<Server>, peer: SocketAddr) -> Self {
        Session {
            conn,
            config: server.config.get(),
            server,
            peer,
            state: State::NotAuthenticated,
            rev2: false,
            utf8: false,
            saved: Vec::new(),
            ext: Extensions::default(),
            changes: None,
            notify: None,
            user_slot: None,
            contexts: Default::default(),
            errors: 0,
        }
    }

    pub async fn run(mut self) {
        let capabilities = self.capabilities();
        self.untagged(&format!("OK [CAPABILITY {capabilities}] postamt IMAP ready"));
        // The command being received is scanned once as it arrives and
        // parsed once it is whole (issue 12: re-parsing it after every
        // read cost the square of its size).
        let mut framer = Framer::new();
        loop {
            let limits = self.limits();
            let outcome = match framer.scan(self.conn.buffered(), &limits) {
                Frame::Incomplete { continuation } => {
                    // RFC 9051 §7.5: a synchronising literal waits for "+".
                    if continuation {
                        self.conn.send(b"+ Ready for literal data\r\n");
                    }
                    // Between commands: where a stop ends the session, and
                    // where NOTIFY's notifications go out (RFC 5465 §3).
                    if self.notify.is_some() {
                        self.wait_notifying().await.map(|()| Flow::Continue)
                    } else {
                        self.conn.read_command(AUTOLOGOUT).await.map(|()| Flow::Continue)
                    }
                }
                Frame::Complete { len } => {
                    let parsed = parse_command(&self.conn.buffered()[..len], limits);
                    self.conn.consume(len);
                    match parsed {
                        Ok((command, _)) => self.handle(command).await,
                        Err(ParseError::Bad { tag, reason, .. }) => {
                            Ok(self.error(tag.as_deref().unwrap_or("*"), &reason))
                        }
                        // The framer enforced the limits and found the end.
                        Err(_) => Ok(self.error("*", "Malformed command")),
                    }
                }
                Frame::TooBig { consumed, tag, refusal } => {
                    self.conn.consume(consumed);
                    self.refuse(tag.as_deref().unwrap_or("*"), refusal)
                }
                // The rest of a refused line is dropped as it comes, still
                // within the command's time (Connection::discard).
                Frame::Skip { consumed, done: true } => {
                    self.conn.consume(consumed);
                    Ok(Flow::Continue)
                }
                Frame::Skip { consumed, done: false } => {
                    self.conn.discard(consumed);
                    self.read_more().await.map(|()| Flow::Continue)
                }
            };
            if !self.conn.proceed(outcome).await {
                return;
            }
        }
    }

    async fn handle(&mut self, command: Command) -> Outcome {
        let Command { tag, body } = command;
        let result = self.dispatch(&tag, body).await;
        self.reply(&tag, result)
    }

    /// The one place where a failed command gets its tagged answer (see
    /// `error.rs`); a command that succeeded has sent its own.
    fn reply(&mut self, tag: &str, result: Reply) -> Outcome {
        match result {
            Ok(flow) => Ok(flow),
            Err(CommandError::No { code, text }) => self.no(tag, code, &text),
            Err(CommandError::Bad(text)) => Ok(self.error(tag, &text)),
            Err(CommandError::BadCode { code, text }) => Ok(self.counted_bad(tag, Some(code), &text)),
            Err(CommandError::Server(error)) => {
                tracing::error!(%error, "command failed");
                self.no(tag, Some("SERVERBUG"), "Internal error, try again later")
            }
            Err(CommandError::Disconnect) => Err(Disconnect),
        }
    }

    /// Runs a command in the state it was sent in, matched here once: the
    /// state is taken out of the session while the command runs, its
    /// parts handed to the handler, and put back (or replaced, by LOGIN,
    /// SELECT, CLOSE) when it is done.
    async fn dispatch(&mut self, tag: &str, body: CommandBody) -> Reply {
        // Valid in every state (RFC 9051 §6.1).
        let body = match body {
            CommandBody::Capability => {
                let capabilities = self.capabilities();
                self.untagged(&format!("CAPABILITY {capabilities}"));
                return self.ok(tag, "CAPABILITY completed");
            }
            CommandBody::Logout => {
                // Free the user's session slot before the client hears OK.
                self.user_slot = None;
                self.untagged("BYE postamt logging out");
                self.ok(tag, "LOGOUT completed")?;
                return Ok(Flow::Close);
            }
            CommandBody::Id(_) => {
                self.untagged("ID (\"name\" \"postamt\")");
                return self.ok(tag, "ID completed");
            }
            CommandBody::Compress(mechanism) => return self.compress(tag, &mechanism).await,
            // RFC 9586 §3: refused whatever the state, the selection kept.
            body if self.ext.uidonly && crate::uidonly::needs_uids(&body) => {
                return Err(crate::uidonly::uid_required());
            }
            body => body,
        };
        match std::mem::replace(&mut self.state, State::NotAuthenticated) {
            State::NotAuthenticated => self.not_authenticated(tag, body).await,
            State::Authenticated { account } => {
                let result = match body {
                    CommandBody::Select { mailbox, params } => {
                        return self.select(tag, &mailbox, (false, params), account, None).await;
                    }
                    CommandBody::Examine { mailbox, params } => {
                        return self.select(tag, &mailbox, (true, params), account, None).await;
                    }
                    body => self.authenticated(tag, body, &account, None).await,
                };
                self.state = State::Authenticated { account };
                result
            }
            State::Selected { account, mut view } => {
                let result = match body {
                    // RFC 9051 §6.3.2: SELECT first closes the mailbox.
                    CommandBody::Select { mailbox, params } => {
                        return self.select(tag, &mailbox, (false, params), account, Some(view)).await;
                    }
                    CommandBody::Examine { mailbox, params } => {
                        return self.select(tag, &mailbox, (true, params), account, Some(view)).await;
                    }
                    CommandBody::Close => return self.close(tag, true, account, view).await,
                    CommandBody::Unselect => return self.close(tag, false, account, view).await,
                    body => self.selected(tag, body, &account, &mut view).await,
                };
                self.state = State::Selected { account, view };
                result
            }
        }
    }

    /// Not authenticated (RFC 9051 §6.2): a login sets the state.
    async fn not_authenticated(&mut self, tag: &str, body: CommandBody) -> Reply {
        match body {
            CommandBody::Noop => self.ok(tag, "NOOP completed"),
            CommandBody::StartTls => self.starttls(tag).await,
            CommandBody::Login { user, password } => self.login(tag, &user, password).await,
            CommandBody::Authenticate {
                mechanism,
                initial_response,
            } => self.authenticate(tag, &mechanism, initial_response).await,
            _ => Err(not_valid_here()),
        }
    }

    /// Authenticated (RFC 9051 §6.3), and the same commands in the
    /// selected state, which some of them report changes of.
    async fn authenticated(
        &mut self,
        tag: &str,
        body: CommandBody,
        account: &Account,
        mut view: Option<&mut View>,
    ) -> Reply {
        match body {
            CommandBody::Noop => {
                if let Some(view) = view {
                    self.report_changes(view, true, true).await?;
                }
                self.ok(tag, "NOOP completed")
            }
            CommandBody::Enable(capabilities) => self.enable(tag, &capabilities, view.as_deref()),
            CommandBody::Namespace => {
                self.untagged("NAMESPACE ((\"\" \"/\")) NIL NIL");
                self.ok(tag, "NAMESPACE completed")
            }
            CommandBody::List {
                selection,
                reference,
                patterns,
                returns,
            } => {
                let command = ListCommand {
                    selection: &selection,
                    reference: &reference,
                    patterns: &patterns,
                    returns: &returns,
                    lsub: false,
                };
                self.list(tag, account, command).await
            }
            CommandBody::Lsub { reference, pattern } => {
                let command = ListCommand {
                    selection: &["SUBSCRIBED".into()],
                    reference: &reference,
                    patterns: &[pattern],
                    returns: &[],
                    lsub: true,
                };
                self.list(tag, account, command).await
            }
            CommandBody::Create { mailbox, uses } => self.create(tag, account, &mailbox, &uses).await,
            CommandBody::Delete { mailbox } => self.delete(tag, account, view.as_deref(), &mailbox).await,
            CommandBody::Rename { from, to } => self.rename(tag, account, &from, &to).await,
            CommandBody::Subscribe { mailbox } => self.subscribe(tag, account, &mailbox, true).await,
            CommandBody::Unsubscribe { mailbox } => self.subscribe(tag, account, &mailbox, false).await,
            CommandBody::Status { mailbox, items } => {
                self.status(tag, account, view.as_deref_mut(), &mailbox, &items).await
            }
            CommandBody::Append { mailbox, messages } => {
                self.append(tag, account, view.as_deref_mut(), &mailbox, messages).await
            }
            CommandBody::Idle => self.idle(tag, view).await,
            CommandBody::Notify(notify) => self.notify_command(tag, account, view, notify).await,
            CommandBody::GetQuota { root } => self.get_quota(tag, account, &root).await,
            CommandBody::GetQuotaRoot { mailbox } => self.get_quota_root(tag, account, &mailbox).await,
            CommandBody::SetQuota { .. } => self.set_quota(),
            CommandBody::GetMetadata {
                mailbox,
                max_size,
                depth,
                entries,
            } => {
                let query = MetadataQuery {
                    max_size,
                    depth,
                    entries,
                };
                self.getmetadata(tag, account, &mailbox, query).await
            }
            CommandBody::SetMetadata { mailbox, entries } => self.setmetadata(tag, account, &mailbox, entries).await,
            _ => Err(not_valid_here()),
        }
    }

    /// Selected (RFC 9051 §6.4): the commands on the selected mailbox's
    /// messages, and those of the authenticated state.
    async fn selected(&mut self, tag: &str, body: CommandBody, account: &Account, view: &mut View) -> Reply {
        match body {
            CommandBody::Expunge { uids } => self.expunge(tag, view, uids).await,
            CommandBody::Fetch {
                uid,
                set,
                items,
                modifiers,
            } => self.fetch(tag, view, (uid, &set), &items, modifiers).await,
            CommandBody::Store {
                uid,
                set,
                mode,
                silent,
                flags,
                unchanged_since,
            } => {
                let change = FlagStore {
                    uid,
                    mode,
                    silent,
                    unchanged_since,
                };
                self.store(tag, view, &set, change, &flags).await
            }
            CommandBody::Search { uid, returns, key, .. } => self.search(tag, view, uid, returns, &key).await,
            CommandBody::Sort {
                uid,
                returns,
                criteria,
                charset,
                key,
            } => {
                let command = SortCommand {
                    uid,
                    returns,
                    criteria: &criteria,
                    charset: &charset,
                    key: &key,
                };
                self.sort(tag, view, command).await
            }
            CommandBody::Thread {
                uid,
                algorithm,
                charset,
                key,
            } => self.thread(tag, view, uid, algorithm, &charset, &key).await,
            CommandBody::CancelUpdate(tags) => self.cancel_update(tag, &tags),
            CommandBody::Copy { uid, set, mailbox } => {
                let indexes = view.select(&set, uid, &self.saved);
                self.copy(tag, account, view, &indexes, &mailbox, false).await
            }
            CommandBody::Replace {
                uid,
                number,
                mailbox,
                message,
            } => self.replace(tag, account, view, uid, number, &mailbox, message).await,
            CommandBody::Move { uid, set, mailbox } => {
                let indexes = view.select(&set, uid, &self.saved);
                self.copy(tag, account, view, &indexes, &mailbox, true).await
            }
            body => self.authenticated(tag, body, account, Some(view)).await,
        }
    }

    /// What the server offers now (RFC 9051 §7.2.2): login methods only
    /// where a password may be sent.
    pub fn capabilities(&self) -> String {
        let mut capabilities = vec!["IMAP4rev1", "IMAP4rev2"];
        if matches!(self.state, State::NotAuthenticated) {
            if self.server.tls.is_some() && !self.conn.is_tls() {
                capabilities.push("STARTTLS");
            }
            if self.auth_allowed() {
                capabilities.extend(["AUTH=PLAIN", "SASL-IR"]);
            } else {
                capabilities.push("LOGINDISABLED");
            }
        }
        capabilities.extend([
            "LITERAL+",
            "ENABLE",
            "IDLE",
            "NAMESPACE",
            "UNSELECT",
            "UIDPLUS",
            "MOVE",
            "ID",
            "CHILDREN",
            "LIST-EXTENDED",
            "LIST-STATUS",
            "SPECIAL-USE",
            "ESEARCH",
            "SEARCHRES",
            "BINARY",
            "STATUS=SIZE",
            "MULTIAPPEND",
            "UTF8=ACCEPT",
            "CONDSTORE",
            "QRESYNC",
            "NOTIFY",
            "SORT",
            "SORT=DISPLAY",
            "THREAD=ORDEREDSUBJECT",
            "THREAD=REFERENCES",
            "ESORT",
            "PARTIAL",
            "CONTEXT=SEARCH",
            "CONTEXT=SORT",
            "QUOTA",
            "QUOTA=RES-STORAGE",
            "QUOTA=RES-MESSAGE",
            "COMPRESS=DEFLATE",
            "METADATA",
            "METADATA-SERVER",
            "OBJECTID",
            "SAVEDATE",
            "PREVIEW",
            "CREATE-SPECIAL-USE",
            "REPLACE",
            "CATENATE",
            "UIDONLY",
        ]);
        // RFC 7889 §2: the largest message APPEND takes, the literal limit.
        let append_limit = format!("APPENDLIMIT={}", self.config.max_literal);
        capabilities.push(&append_limit);
        capabilities.join(" ")
    }

    pub fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.config.allow_cleartext_auth
    }

    /// `* text`
    pub fn untagged(&mut self, text: &str) {
        let out = self.conn.output();
        out.extend_from_slice(b"* ");
        out.extend_from_slice(text.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// `tag STATUS [CODE] text`
    pub fn tagged(&mut self, tag: &str, status: &str, code: Option<&str>, text: &str) {
        let code = code.map(|c| format!("[{c}] ")).unwrap_or_default();
        let line = format!("{tag} {status} {code}{text}\r\n");
        self.conn.output().extend_from_slice(line.as_bytes());
        // Only BADs in a row end the session (issue 13, defect 3): a client
        // that makes a mistake now and then is never cut off, one that
        // sends nothing valid is (as Dovecot does).
        if status != "BAD" {
            self.errors = 0;
        }
    }

    pub fn ok(&mut self, tag: &str, text: &str) -> Reply {
        self.tagged(tag, "OK", None, text);
        Ok(Flow::Continue)
    }

    pub fn no(&mut self, tag: &str, code: Option<&str>, text: &str) -> Outcome {
        self.tagged(tag, "NO", code, text);
        Ok(Flow::Continue)
    }

    /// What one command may hold now: before login only a small one
    /// (issue 12, attack 2), after it as configured.
    fn limits(&self) -> Limits {
        let config = &self.config;
        let defaults = Limits::default();
        if matches!(self.state, State::NotAuthenticated) {
            let small = config.max_command_before_login;
            Limits {
                max_line: defaults.max_line.min(usize::try_from(small).unwrap_or(usize::MAX)),
                max_literal: small,
                max_command: small,
                max_literals: config.max_literals,
                ..defaults
            }
        } else {
            Limits {
                max_literal: config.max_literal,
                max_command: config.max_command,
                max_literals: config.max_literals,
                ..defaults
            }
        }
    }

    /// Answers a command over its limits (RFC 9051 §7.1: TOOBIG).
    fn refuse(&mut self, tag: &str, refusal: Refusal) -> Outcome {
        match refusal {
            // Refused before the client sent it: the command is over.
            Refusal::Literal => self.no(tag, Some("TOOBIG"), "Literal too large"),
            Refusal::NonSynchronisingLiteral => {
                // Its data is on the way and cannot be told from commands
                // (RFC 7888 §4): the session cannot go on.
                self.tagged(tag, "BAD", Some("TOOBIG"), "Literal too large");
                self.untagged("BYE Literal too large");
                Ok(Flow::Close)
            }
            // Compressed, the rest would have to be inflated to find its
            // end: a few KiB of a compression bomb cost gigabytes of work.
            Refusal::Line if self.conn.is_compressed() => {
                self.tagged(tag, "BAD", Some("TOOBIG"), "Command too long");
                self.untagged("BYE Command too long");
                Ok(Flow::Close)
            }
            // The rest of the line is dropped as it comes.
            Refusal::Line => Ok(self.counted_bad(tag, Some("TOOBIG"), "Command too long")),
        }
    }

    /// BAD, counted; too many in a row end the session.
    pub fn error(&mut self, tag: &str, text: &str) -> Flow {
        self.counted_bad(tag, None, text)
    }

    fn counted_bad(&mut self, tag: &str, code: Option<&str>, text: &str) -> Flow {
        self.tagged(tag, "BAD", code, text);
        self.errors += 1;
        if self.errors >= self.config.max_errors {
            self.untagged("BYE Too many errors");
            return Flow::Close;
        }
        Flow::Continue
    }

    /// Reports what others changed in the selected mailbox, if anything
    /// was announced (or `always`). `expunges`: see [`View::sync`].
    pub async fn report_changes(&mut self, view: &mut View, expunges: bool, always: bool) -> Result<(), Disconnect> {
        // Updating contexts look for changes of this session's own too.
        let mut changed = always || !self.contexts.is_empty();
        if let Some(changes) = &mut self.changes {
            loop {
                match changes.try_recv() {
                    Ok(mailbox) => changed |= mailbox == view.mailbox.id,
                    Err(broadcast::error::TryRecvError::Lagged(_)) => changed = true,
                    Err(_) => break,
                }
            }
        }
        if changed {
            // With NOTIFY's MessageNew FETCH items for new messages.
            self.report_selected(view, expunges).await?;
        }
        Ok(())
    }

    pub async fn read_more(&mut self) -> Result<(), Disconnect> {
        self.conn.read_more(AUTOLOGOUT).await
    }

    pub async fn read_failed(&mut self, error: ReadError) -> Disconnect {
        self.conn.read_failed(error, AUTOLOGOUT).await
    }
}

/// The BAD for a command sent in a state it is not valid in.
fn not_valid_here() -> CommandError {
    CommandError::bad("Command not valid in this state")
}
