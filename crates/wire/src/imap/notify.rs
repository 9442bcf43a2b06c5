//! The arguments of NOTIFY (RFC 5465 §3.1, grammar in §8): `NOTIFY NONE`,
//! or `NOTIFY SET [STATUS]` and event groups, each a mailbox filter and the
//! events wanted for the mailboxes it names.
//!
//! Event names the parser does not know are kept (as
//! [`NotifyEvent::Other`]): RFC 5465 §3.1 answers them with
//! `NO [BADEVENT ...]`, a decision for the server, not a syntax error.

use super::fetch::{FetchItem, fetch_items};
use super::parser::{Cursor, Step, bad};

/// What a NOTIFY command asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// NOTIFY NONE: no more notifications.
    None,
    /// NOTIFY SET: `status` asks for a STATUS of each watched mailbox
    /// before the tagged OK (RFC 5465 §3.1).
    Set { status: bool, groups: Vec<EventGroup> },
}

/// One `(filter events)` group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGroup {
    pub filter: MailboxFilter,
    /// Empty for `NONE`: the filter's mailboxes are watched for nothing.
    pub events: Vec<NotifyEvent>,
}

/// Which mailboxes a group is about (RFC 5465 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailboxFilter {
    Selected,
    /// Like `Selected`, but expunges wait for a command that allows them.
    SelectedDelayed,
    Inboxes,
    Personal,
    Subscribed,
    /// These mailboxes and all below them.
    Subtree(Vec<Vec<u8>>),
    /// Exactly these mailboxes.
    Mailboxes(Vec<Vec<u8>>),
}

impl MailboxFilter {
    /// SELECTED or SELECTED-DELAYED.
    pub fn is_selected(&self) -> bool {
        matches!(self, MailboxFilter::Selected | MailboxFilter::SelectedDelayed)
    }
}

/// An event name of RFC 5465 §5.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotifyEvent {
    /// With the FETCH items to send for a new message of the selected
    /// mailbox (§5.2).
    MessageNew(Vec<FetchItem>),
    MessageExpunge,
    FlagChange,
    AnnotationChange,
    MailboxName,
    SubscriptionChange,
    MailboxMetadataChange,
    ServerMetadataChange,
    /// A name this parser does not know, upper-cased.
    Other(String),
}

impl NotifyEvent {
    /// Message events are about a mailbox's messages (§5.2-§5.5); the
    /// others about the mailbox list or the server.
    pub fn is_message_event(&self) -> bool {
        matches!(
            self,
            NotifyEvent::MessageNew(_)
                | NotifyEvent::MessageExpunge
                | NotifyEvent::FlagChange
                | NotifyEvent::AnnotationChange
        )
    }
}

/// The arguments after `NOTIFY`.
pub(crate) fn notify(c: &mut Cursor<'_>) -> Step<Notify> {
    c.space()?;
    match c.keyword()?.as_str() {
        "NONE" => Ok(Notify::None),
        "SET" => {
            c.space()?;
            let mut status = false;
            if c.peek() != Some(b'(') {
                if c.keyword()? != "STATUS" {
                    return bad("NOTIFY SET takes STATUS or event groups");
                }
                status = true;
                c.space()?;
            }
            let mut groups = vec![event_group(c)?];
            while c.maybe_space()? {
                groups.push(event_group(c)?);
            }
            Ok(Notify::Set { status, groups })
        }
        _ => bad("NOTIFY takes SET or NONE"),
    }
}

/// event-group = "(" filter-mailboxes SP events ")"
fn event_group(c: &mut Cursor<'_>) -> Step<EventGroup> {
    c.open()?;
    let filter = match c.keyword()?.as_str() {
        "SELECTED" => MailboxFilter::Selected,
        "SELECTED-DELAYED" => MailboxFilter::SelectedDelayed,
        "INBOXES" => MailboxFilter::Inboxes,
        "PERSONAL" => MailboxFilter::Personal,
        "SUBSCRIBED" => MailboxFilter::Subscribed,
        "SUBTREE" => MailboxFilter::Subtree(mailboxes(c)?),
        "MAILBOXES" => MailboxFilter::Mailboxes(mailboxes(c)?),
        other => return bad(format!("unknown NOTIFY mailbox filter {other}")),
    };
    c.space()?;
    let events = if c.peek() == Some(b'(') {
        let events = c.list(event)?;
        if events.is_empty() {
            return bad("an event list names one event or more (or is NONE)");
        }
        events
    } else if c.keyword()? == "NONE" {
        Vec::new()
    } else {
        return bad("expected a list of events or NONE");
    };
    if !c.close()? {
        return bad("expected ) after the events");
    }
    Ok(EventGroup { filter, events })
}

/// one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")"
fn mailboxes(c: &mut Cursor<'_>) -> Step<Vec<Vec<u8>>> {
    c.space()?;
    if c.peek() == Some(b'(') {
        let names = c.list(|c| c.astring())?;
        if names.is_empty() {
            return bad("a mailbox list names one mailbox or more");
        }
        return Ok(names);
    }
    Ok(vec![c.astring()?])
}

fn event(c: &mut Cursor<'_>) -> Step<NotifyEvent> {
    Ok(match c.keyword()?.as_str() {
        "MESSAGENEW" => {
            let start = c.pos;
            if c.maybe_space()? && c.peek() == Some(b'(') {
                NotifyEvent::MessageNew(fetch_items(c)?)
            } else {
                c.pos = start;
                NotifyEvent::MessageNew(Vec::new())
            }
        }
        "MESSAGEEXPUNGE" => NotifyEvent::MessageExpunge,
        "FLAGCHANGE" => NotifyEvent::FlagChange,
        "ANNOTATIONCHANGE" => NotifyEvent::AnnotationChange,
        "MAILBOXNAME" => NotifyEvent::MailboxName,
        "SUBSCRIPTIONCHANGE" => NotifyEvent::SubscriptionChange,
        "MAILBOXMETADATACHANGE" => NotifyEvent::MailboxMetadataChange,
        "SERVERMETADATACHANGE" => NotifyEvent::ServerMetadataChange,
        other => NotifyEvent::Other(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imap::{CommandBody, Limits, ParseError, Section, SectionText, parse_command};

    fn parse(input: &str) -> Notify {
        let (command, used) = parse_command(input.as_bytes(), Limits::default()).expect(input);
        assert_eq!(used, input.len(), "{input:?}");
        match command.body {
            CommandBody::Notify(notify) => notify,
            other => panic!("{input:?} parsed as {other:?}"),
        }
    }

    fn refused(input: &str) -> bool {
        matches!(
            parse_command(input.as_bytes(), Limits::default()),
            Err(ParseError::Bad { .. })
        )
    }

    #[test]
    fn none_and_a_simple_set() {
        assert_eq!(parse("a notify none\r\n"), Notify::None);
        assert_eq!(
            parse("a NOTIFY SET (selected (MessageExpunge MessageNew))\r\n"),
            Notify::Set {
                status: false,
                groups: vec![EventGroup {
                    filter: MailboxFilter::Selected,
                    events: vec![NotifyEvent::MessageExpunge, NotifyEvent::MessageNew(vec![])],
                }],
            }
        );
    }

    /// RFC 5465 §3.1's example, with erratum 1804's parentheses.
    #[test]
    fn the_rfc_example_with_fetch_items_and_subtrees() {
        let notify = parse(
            "b notify set status (selected (MessageNew (uid body.peek[header.fields (from to subject)]) \
             MessageExpunge)) (subtree Lists (MessageNew)) (mailboxes (misc \"a b\") (MessageNew))\r\n",
        );
        let header = FetchItem::BodySection {
            section: Section {
                part: vec![],
                text: Some(SectionText::HeaderFields(vec![
                    "from".into(),
                    "to".into(),
                    "subject".into(),
                ])),
            },
            partial: None,
            peek: true,
        };
        assert_eq!(
            notify,
            Notify::Set {
                status: true,
                groups: vec![
                    EventGroup {
                        filter: MailboxFilter::Selected,
                        events: vec![
                            NotifyEvent::MessageNew(vec![FetchItem::Uid, header]),
                            NotifyEvent::MessageExpunge
                        ],
                    },
                    EventGroup {
                        filter: MailboxFilter::Subtree(vec![b"Lists".to_vec()]),
                        events: vec![NotifyEvent::MessageNew(vec![])],
                    },
                    EventGroup {
                        filter: MailboxFilter::Mailboxes(vec![b"misc".to_vec(), b"a b".to_vec()]),
                        events: vec![NotifyEvent::MessageNew(vec![])],
                    },
                ],
            }
        );
    }

    #[test]
    fn every_filter_and_event_name() {
        let Notify::Set { groups, .. } = parse(
            "a NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange AnnotationChange)) \
             (personal (MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)) \
             (inboxes NONE) (subscribed (messagenew messageexpunge)) (mailboxes INBOX (Whatever))\r\n",
        ) else {
            panic!("not a SET");
        };
        let filters: Vec<_> = groups.iter().map(|group| group.filter.clone()).collect();
        assert_eq!(
            filters,
            [
                MailboxFilter::SelectedDelayed,
                MailboxFilter::Personal,
                MailboxFilter::Inboxes,
                MailboxFilter::Subscribed,
                MailboxFilter::Mailboxes(vec![b"INBOX".to_vec()]),
            ]
        );
        assert_eq!(groups[0].events.len(), 4);
        assert!(groups[0].events.iter().all(NotifyEvent::is_message_event));
        assert_eq!(
            groups[1].events,
            [
                NotifyEvent::MailboxName,
                NotifyEvent::SubscriptionChange,
                NotifyEvent::MailboxMetadataChange,
                NotifyEvent::ServerMetadataChange
            ]
        );
        assert!(groups[2].events.is_empty());
        assert_eq!(groups[4].events, [NotifyEvent::Other("WHATEVER".into())]);
    }

    #[test]
    fn malformed_commands_are_bad() {
        assert!(refused("a NOTIFY\r\n"));
        assert!(refused("a NOTIFY SET\r\n"));
        assert!(refused("a NOTIFY SET STATUS\r\n"));
        assert!(refused("a NOTIFY SET (selected)\r\n"));
        assert!(refused("a NOTIFY SET (selected ())\r\n"));
        assert!(refused("a NOTIFY SET (elsewhere (MessageNew))\r\n"));
        assert!(refused("a NOTIFY SET (mailboxes () (MessageNew))\r\n"));
        assert!(refused("a NOTIFY SET (selected (MessageNew)\r\n"));
        assert!(refused("a NOTIFY SET LOUDLY (selected (MessageNew))\r\n"));
        assert!(refused("a NOTIFY MAYBE\r\n"));
    }
}
