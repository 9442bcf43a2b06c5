//! The actions a run collects, and the rules between them: the implicit
//! keep (RFC 5228 §2.10.2) and what cancels it, the same delivery asked
//! twice done once (§2.10.3), reject against everything that delivers
//! (RFC 5429 §2.1, §2.2), one vacation per run (RFC 5230 §4.7).

use super::{Limits, RuntimeError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Deliver into INBOX with these flags (RFC 5232 §5).
    Keep {
        flags: Vec<String>,
    },
    FileInto {
        mailbox: String,
        flags: Vec<String>,
        /// Create the mailbox if it does not exist (RFC 5490 §3.2).
        create: bool,
        /// File into the mailbox with this special use instead, if one
        /// has it (RFC 8579 §4).
        special_use: Option<String>,
    },
    Redirect {
        address: String,
    },
    /// Refuse the message: at the SMTP level (`protocol_level`, for
    /// ereject when the transaction is still open) or with a DSN.
    Reject {
        reason: String,
        protocol_level: bool,
    },
    Vacation(VacationReply),
}

/// A vacation reply the script asked for and whose conditions held
/// (RFC 5230 §4.5, §5). The host still checks `key` against the replies
/// it sent within `period` seconds, and sends with a null reverse-path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VacationReply {
    /// Whom to answer: the envelope sender.
    pub to: String,
    /// The address to answer from: `:from`, else the recipient.
    pub from: String,
    pub subject: String,
    /// The reply's text, or its whole MIME entity when `mime`.
    pub body: String,
    pub mime: bool,
    /// The Message-ID being answered, for In-Reply-To and References.
    pub in_reply_to: Option<String>,
    pub period: u64,
    /// Identifies the sender and the handle, for "one reply per period".
    pub key: String,
}

#[derive(Debug)]
pub(crate) struct Collected {
    pub actions: Vec<Action>,
    pub implicit_keep: bool,
    redirects: usize,
}

impl Collected {
    pub fn new() -> Self {
        Collected {
            actions: Vec::new(),
            implicit_keep: true,
            redirects: 0,
        }
    }

    /// Adds an action; `cancels_keep` for the ones that do (everything
    /// but `:copy` ones, keep itself and vacation).
    pub fn add(&mut self, action: Action, cancels_keep: bool, limits: &Limits) -> Result<(), RuntimeError> {
        if cancels_keep {
            self.implicit_keep = false;
        }
        let rejecting = self.actions.iter().any(|a| matches!(a, Action::Reject { .. }));
        match &action {
            Action::Reject { .. } => {
                if self.actions.iter().any(|a| !matches!(a, Action::Reject { .. })) {
                    return Err(conflict("reject"));
                }
                if rejecting {
                    return Ok(());
                }
            }
            _ if rejecting => return Err(conflict(kind(&action))),
            Action::Vacation(_) if self.actions.iter().any(|a| matches!(a, Action::Vacation(_))) => {
                return Err(RuntimeError(
                    "the script asks for a second vacation reply (RFC 5230 §4.7 allows one)".into(),
                ));
            }
            _ => {}
        }
        if let Some(same) = self.actions.iter_mut().find(|a| same_delivery(a, &action)) {
            merge_flags(same, &action);
            return Ok(());
        }
        if let Action::Redirect { .. } = action {
            self.redirects += 1;
            if self.redirects > limits.redirects {
                return Err(RuntimeError(format!("more than {} redirects", limits.redirects)));
            }
        }
        if self.actions.len() >= limits.actions {
            return Err(RuntimeError(format!("more than {} actions", limits.actions)));
        }
        self.actions.push(action);
        Ok(())
    }

    /// The actions to carry out, with the implicit keep if it stands.
    /// The implicit keep is not done twice when the script already
    /// delivered into INBOX, by keep or by `fileinto :copy "INBOX"`
    /// (RFC 5228 §2.10.3, §4.3: keep is fileinto "INBOX").
    pub fn finish(mut self, flags: &[String]) -> Vec<Action> {
        let keep = Action::Keep { flags: flags.to_vec() };
        if self.implicit_keep && !self.actions.iter().any(|a| same_delivery(a, &keep)) {
            self.actions.push(keep);
        }
        self.actions
    }
}

fn conflict(what: &str) -> RuntimeError {
    RuntimeError(format!("{what} cannot be combined with reject (RFC 5429 §2.1)"))
}

fn kind(action: &Action) -> &'static str {
    match action {
        Action::Keep { .. } => "keep",
        Action::FileInto { .. } => "fileinto",
        Action::Redirect { .. } => "redirect",
        Action::Reject { .. } => "reject",
        Action::Vacation(_) => "vacation",
    }
}

/// The same delivery twice: keep and fileinto "INBOX", fileinto one
/// mailbox, redirect to one address (RFC 5228 §2.10.3 / §4.2).
fn same_delivery(a: &Action, b: &Action) -> bool {
    let mailbox = |action: &Action| match action {
        Action::Keep { .. } => Some("INBOX".to_string()),
        Action::FileInto {
            mailbox,
            special_use: None,
            ..
        } if mailbox.eq_ignore_ascii_case("INBOX") => Some("INBOX".into()),
        Action::FileInto {
            mailbox,
            special_use: None,
            ..
        } => Some(mailbox.clone()),
        _ => None,
    };
    match (a, b) {
        (Action::Redirect { address: x }, Action::Redirect { address: y }) => x.eq_ignore_ascii_case(y),
        _ => mailbox(a).is_some() && mailbox(a) == mailbox(b),
    }
}

fn merge_flags(into: &mut Action, from: &Action) {
    let (Action::Keep { flags: to } | Action::FileInto { flags: to, .. }) = into else {
        return;
    };
    if let Action::Keep { flags } | Action::FileInto { flags, .. } = from {
        for flag in flags {
            if !to.iter().any(|f| f.eq_ignore_ascii_case(flag)) {
                to.push(flag.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fileinto(mailbox: &str, flags: &[&str]) -> Action {
        Action::FileInto {
            mailbox: mailbox.into(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            create: false,
            special_use: None,
        }
    }

    #[test]
    fn the_same_delivery_is_done_once_with_the_flags_of_both() {
        let limits = Limits::default();
        let mut collected = Collected::new();
        collected.add(fileinto("Lists", &["\\Seen"]), true, &limits).unwrap();
        collected
            .add(fileinto("Lists", &["\\Flagged", "\\seen"]), true, &limits)
            .unwrap();
        collected.add(Action::Keep { flags: vec![] }, false, &limits).unwrap();
        collected.add(fileinto("inbox", &[]), true, &limits).unwrap();
        let redirect = |a: &str| Action::Redirect { address: a.into() };
        collected.add(redirect("a@example.org"), true, &limits).unwrap();
        collected.add(redirect("A@example.org"), true, &limits).unwrap();
        assert_eq!(
            collected.finish(&[]),
            vec![
                fileinto("Lists", &["\\Seen", "\\Flagged"]),
                Action::Keep { flags: vec![] },
                redirect("a@example.org")
            ]
        );
    }

    #[test]
    fn the_implicit_keep_stands_unless_cancelled() {
        let limits = Limits::default();
        let collected = Collected::new();
        assert_eq!(
            collected.finish(&["$Junk".into()]),
            vec![Action::Keep {
                flags: vec!["$Junk".into()]
            }]
        );
        let mut collected = Collected::new();
        collected.add(fileinto("Copy", &[]), false, &limits).unwrap();
        assert_eq!(collected.finish(&[]).len(), 2);
        let mut collected = Collected::new();
        collected.add(fileinto("Moved", &[]), true, &limits).unwrap();
        assert_eq!(collected.finish(&[]), vec![fileinto("Moved", &[])]);
    }

    #[test]
    fn reject_conflicts_and_limits_are_errors() {
        let limits = Limits {
            redirects: 2,
            actions: 3,
            ..Limits::default()
        };
        let reject = Action::Reject {
            reason: "no".into(),
            protocol_level: false,
        };
        let mut collected = Collected::new();
        collected.add(fileinto("A", &[]), true, &limits).unwrap();
        assert!(collected.add(reject.clone(), true, &limits).is_err());
        let mut collected = Collected::new();
        collected.add(reject.clone(), true, &limits).unwrap();
        collected.add(reject, true, &limits).unwrap();
        assert!(collected.add(Action::Keep { flags: vec![] }, false, &limits).is_err());

        let mut collected = Collected::new();
        for address in ["a@x.test", "b@x.test"] {
            collected
                .add(
                    Action::Redirect {
                        address: address.into(),
                    },
                    true,
                    &limits,
                )
                .unwrap();
        }
        assert!(
            collected
                .add(
                    Action::Redirect {
                        address: "c@x.test".into()
                    },
                    true,
                    &limits
                )
                .is_err()
        );
        collected.add(fileinto("A", &[]), true, &limits).unwrap();
        assert!(collected.add(fileinto("B", &[]), true, &limits).is_err());
    }
}
