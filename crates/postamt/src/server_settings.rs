//! `[server]`: how the process itself runs: the unprivileged user it
//! becomes after binding its ports (see privileges.rs), whether it may
//! stay root, and how long a stop waits for transactions under way.

use std::time::Duration;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// The user `postamt serve` becomes once its listeners are bound, when
    /// started as root. Unset: a root start is refused (see `allow_root`).
    pub user: Option<String>,
    /// That user's group; the user's primary group by default.
    pub group: Option<String>,
    /// Keep running as root when no `user` is set. Off: root holding
    /// every mailbox and password hash is one parser bug from the machine.
    pub allow_root: bool,
    /// Seconds a stop (SIGTERM) waits for SMTP transactions in their data
    /// to finish before the process ends anyway.
    pub stop_timeout: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            user: None,
            group: None,
            allow_root: false,
            stop_timeout: 30,
        }
    }
}

impl ServerSettings {
    pub fn stop_timeout(&self) -> Duration {
        Duration::from_secs(self.stop_timeout)
    }
}
