//! `[sieve]`: what users' Sieve scripts (RFC 5228) may store and do. The
//! defaults follow Dovecot's Pigeonhole where it has one (32 actions, 4
//! redirects per message, 1 MiB per script).

use serde::Deserialize;

/// `[sieve]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SieveSettings {
    /// Scripts one account may store.
    pub max_scripts: usize,
    /// The largest script, in bytes (at most 1 MiB).
    pub max_script_size: usize,
    /// Actions (fileinto, redirect, ...) of one run.
    pub max_actions: usize,
    /// Redirects of one message by one account's script.
    pub max_redirects: usize,
}

impl Default for SieveSettings {
    fn default() -> Self {
        SieveSettings {
            max_scripts: 32,
            max_script_size: sieve::MAX_SCRIPT_SIZE,
            max_actions: 32,
            max_redirects: 4,
        }
    }
}

impl SieveSettings {
    /// The bounds of one run at delivery.
    pub fn limits(&self) -> sieve::Limits {
        sieve::Limits {
            actions: self.max_actions,
            redirects: self.max_redirects,
            ..sieve::Limits::default()
        }
    }

    /// What an account may store; an error for a size past what the
    /// compiler reads.
    pub fn storage(&self) -> anyhow::Result<store::SieveLimits> {
        anyhow::ensure!(
            self.max_script_size <= sieve::MAX_SCRIPT_SIZE,
            "[sieve] max_script_size = {} is more than the {} bytes a script may have",
            self.max_script_size,
            sieve::MAX_SCRIPT_SIZE
        );
        Ok(store::SieveLimits {
            max_scripts: self.max_scripts,
            max_size: self.max_script_size,
        })
    }
}
