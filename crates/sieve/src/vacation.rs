//! When a vacation reply may be sent (RFC 5230 §4.5, RFC 3834 §2): never
//! to automatic mail, mailing lists or the null sender, only when the
//! message was addressed to the user by name, and never more than once
//! per sender and period (the host checks the key this module makes).

use crate::interpret::VacationReply;
use crate::interpret::exec::Run;
use crate::program::{Period, Vacation};

/// RFC 5230 §4.1: the default period, and the bounds on `:days`.
const DEFAULT_DAYS: u64 = 7;
const MIN_PERIOD: u64 = 86_400;
const MAX_PERIOD: u64 = 365 * 86_400;

/// Senders that are programs, not people (RFC 5230 §4.5, RFC 3834 §2).
fn is_automatic_sender(local: &str) -> bool {
    let local = local.to_ascii_lowercase();
    local == "mailer-daemon"
        || local == "listserv"
        || local == "majordomo"
        || local.starts_with("owner-")
        || local.ends_with("-request")
        || local.starts_with("bounce")
}

/// The reply to send, or None when one of the rules says not to.
pub(crate) fn reply(run: &Run, vacation: &Vacation) -> Option<VacationReply> {
    let sender = run.envelope.from.clone();
    let (sender_local, _) = sender.rsplit_once('@')?;
    if is_automatic_sender(sender_local) {
        return None;
    }
    let field = |name: &str| -> Vec<String> {
        run.header
            .iter()
            .filter(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim().to_string())
            .collect()
    };
    // RFC 3834 §2: automatic mail says so; lists and bulk mail get none.
    if field("auto-submitted")
        .iter()
        .any(|v| !v.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("no"))
    {
        return None;
    }
    if !field("list-id").is_empty() || !field("list-unsubscribe").is_empty() || !field("list-post").is_empty() {
        return None;
    }
    if field("precedence")
        .iter()
        .any(|v| ["bulk", "list", "junk"].iter().any(|p| v.eq_ignore_ascii_case(p)))
    {
        return None;
    }
    // The user's addresses: the recipient and :addresses (§4.5).
    let mut own: Vec<String> = vec![run.envelope.to.to_ascii_lowercase()];
    own.extend(run.texts(&vacation.addresses).iter().map(|a| a.to_ascii_lowercase()));
    if own.iter().any(|a| a == &sender.to_ascii_lowercase()) {
        return None;
    }
    let addressed = ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"]
        .iter()
        .any(|name| {
            field(name).iter().any(|value| {
                run.mail.addresses(value).iter().any(|address| {
                    let whole = format!("{}@{}", address.local, address.domain).to_ascii_lowercase();
                    own.iter().any(|a| same_mailbox(a, &whole))
                })
            })
        });
    if !addressed {
        return None;
    }

    let subject = match &vacation.subject {
        Some(subject) => run.text(subject),
        None => {
            let original = field("subject").first().map(|s| run.mail.decode(s)).unwrap_or_default();
            if original.is_empty() {
                "Automated reply".to_string()
            } else {
                format!("Auto: {original}")
            }
        }
    };
    // The subject and the From go into the reply's header: one line
    // each, whatever a variable or an encoded word in the original
    // subject held (RFC 5230 §4.3, §4.4; RFC 2047 words can encode CR LF).
    let subject = crate::header::one_line(&subject);
    let from = crate::header::one_line(
        &vacation
            .from
            .as_ref()
            .map_or_else(|| run.envelope.to.clone(), |f| run.text(f)),
    );
    let body = run.text(&vacation.reason);
    // §4.1: at least a day with :days; RFC 6131 lets :seconds go lower.
    let period = match vacation.period {
        None => DEFAULT_DAYS * 86_400,
        Some(Period::Days(days)) => days.saturating_mul(86_400).clamp(MIN_PERIOD, MAX_PERIOD),
        Some(Period::Seconds(seconds)) => seconds.min(MAX_PERIOD),
    };
    // §4.2: without :handle, replies with other text are other replies.
    let handle = match &vacation.handle {
        Some(handle) => run.text(handle),
        None => format!("{}\0{}\0{}\0{}", subject, from, vacation.mime, body),
    };
    Some(VacationReply {
        key: format!("{}\0{}", sender.to_ascii_lowercase(), handle),
        to: sender,
        from,
        subject,
        body,
        mime: vacation.mime,
        in_reply_to: field("message-id").into_iter().next(),
        period,
    })
}

/// The same mailbox, ignoring a `+detail` on the written address (mail
/// to `ken+lists@` was addressed to `ken@`).
fn same_mailbox(own: &str, written: &str) -> bool {
    if own == written {
        return true;
    }
    let strip = |address: &str| match address.rsplit_once('@') {
        Some((local, domain)) => format!("{}@{}", crate::address::user(local), domain),
        None => address.to_string(),
    };
    strip(own) == strip(written)
}
