//! QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT and SETQUOTA.
//!
//! Each account is one quota root, named `""` (the empty string; RFC 9208
//! §3.2 leaves root names to the server), holding every mailbox of the
//! account, with the resources STORAGE (in units of 1024 octets, §5.1)
//! and MESSAGE (§5.2). A root has no QUOTA response while none of its
//! resources is limited: the grammar's `quota_list` holds at least one
//! resource (§6), so GETQUOTAROOT then names no root and GETQUOTA says NO.
//! Limits are the administrator's (`postamt user quota`): SETQUOTA is
//! refused, and QUOTASET not advertised (§4.1.3).

use store::{Account, QuotaUsage};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::error::{CommandError, Reply};
use crate::format::{client_mailbox, mailbox_name};
use crate::session::Session;

/// The name of an account's one quota root.
const ROOT: &str = "";

impl<S: AsyncRead + AsyncWrite + Unpin + Send> Session<S> {
    /// GETQUOTA root (RFC 9208 §4.1.1).
    pub(crate) async fn get_quota(&mut self, tag: &str, account: &Account, root: &[u8]) -> Reply {
        let usage = self.server.store.quota(account.id).await?;
        match (root == ROOT.as_bytes(), quota_response(&usage)) {
            (true, Some(response)) => {
                self.untagged(&response);
                self.ok(tag, "GETQUOTA completed")
            }
            (true, None) => Err(CommandError::refused("No quota limits apply to this account")),
            (false, _) => Err(CommandError::nonexistent()),
        }
    }

    /// GETQUOTAROOT mailbox (RFC 9208 §4.1.2): the account's root, and
    /// its QUOTA response.
    pub(crate) async fn get_quota_root(&mut self, tag: &str, account: &Account, raw: &[u8]) -> Reply {
        let name = client_mailbox(raw, self.utf8).ok_or_else(|| CommandError::bad("Invalid mailbox name"))?;
        let Some(mailbox) = self.server.store.mailbox(account.id, &name).await? else {
            return Err(CommandError::nonexistent());
        };
        let usage = self.server.store.quota(account.id).await?;
        let response = quota_response(&usage);
        let mut out = b"* QUOTAROOT ".to_vec();
        mailbox_name(&mut out, &mailbox.name, self.utf8);
        if response.is_some() {
            out.extend_from_slice(format!(" \"{ROOT}\"").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        self.conn.send(&out);
        if let Some(response) = response {
            self.untagged(&response);
        }
        self.ok(tag, "GETQUOTAROOT completed")
    }

    /// SETQUOTA (RFC 9208 §4.1.3): limits are set by the administrator,
    /// never by the user they limit.
    pub(crate) fn set_quota(&mut self) -> Reply {
        Err(CommandError::no(
            "NOPERM",
            "Quota limits are set by the administrator (postamt user quota)",
        ))
    }
}

/// `QUOTA "" (STORAGE used limit MESSAGE used limit)` for the limited
/// resources, None when none is.
fn quota_response(usage: &QuotaUsage) -> Option<String> {
    let mut resources = Vec::new();
    if let Some(limit) = usage.limits.storage {
        // Usage rounded up, so that a little is not shown as nothing; the
        // limit rounded down, so that "full" is never shown early.
        resources.push(format!("STORAGE {} {}", usage.storage.div_ceil(1024), limit / 1024));
    }
    if let Some(limit) = usage.limits.messages {
        resources.push(format!("MESSAGE {} {limit}", usage.messages));
    }
    (!resources.is_empty()).then(|| format!("QUOTA \"{ROOT}\" ({})", resources.join(" ")))
}
