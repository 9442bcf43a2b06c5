//! SIGHUP: read the config file and the certificate files again and apply
//! what can change while serving: the SMTP, IMAP and POP3 settings (their
//! limits and timeouts) for every session that starts from then on, the
//! SMTP rate limits at once, the stop timeout, the certificate for every
//! new handshake, and the web listener's `[http]` (the metrics token, what
//! mail clients are told) and `[mta_sts]` (the policy served) for every
//! request from then on. What is built once at start (listeners, the store,
//! the user, the queue, the login throttle, the connection limits, the
//! checks of incoming mail) is named in the log with "restart to apply". A config file that no longer loads is
//! logged and changes nothing; nor does a broken certificate, which keeps
//! the one in use.

use std::sync::Arc;

use crate::config::Config;
use crate::serve::{LoadConfig, Servers};
use crate::web::Web;

pub struct Reloader {
    config: Config,
    load: LoadConfig,
    servers: Servers,
    tls: net::ServerTls,
    web: Arc<Web>,
}

impl Reloader {
    pub fn new(config: Config, load: LoadConfig, servers: Servers, tls: net::ServerTls, web: Arc<Web>) -> Reloader {
        Reloader {
            config,
            load,
            servers,
            tls,
            web,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn reload(&mut self) {
        tracing::info!("SIGHUP: reloading the config file and the certificate");
        // With ACME the certificate comes from the store, renewed by the
        // server itself; the files hold only the self-signed stand-in.
        if self.config.tls.acme.is_none() {
            match self.tls.reload() {
                Ok(()) => tracing::info!(cert = %self.tls.files().0.display(), "certificate reloaded"),
                Err(e) => tracing::error!(error = %e, "could not reload the certificate; the one in use stays"),
            }
        }
        let loaded = (self.load)().and_then(|config| Ok((config.smtp()?, config.managesieve()?, config)));
        let config = match loaded {
            Ok((mut smtp, managesieve, config)) => {
                // The name in greetings follows `hostname`, which changes
                // only with a restart (the queue and DKIM use it too).
                smtp.hostname.clone_from(&self.config.hostname);
                self.servers.smtp.set_config(smtp);
                self.servers.imap.set_config(config.imap());
                self.servers.pop3.set_config(config.pop3());
                self.servers.managesieve.set_config(managesieve);
                self.web.reload(&config);
                config
            }
            Err(e) => {
                tracing::error!("the config file could not be loaded; the running configuration stays: {e:#}");
                return;
            }
        };
        for setting in needs_restart(&self.config, &config) {
            tracing::warn!(setting, "changed in the config file; restart to apply");
        }
        self.config = config;
        tracing::info!("configuration reloaded");
    }
}

/// The settings that differ between `old` and `new` and take effect only
/// at the next start. Compared by their debug form: every config type has
/// one, and equal values print alike.
fn needs_restart(old: &Config, new: &Config) -> Vec<String> {
    macro_rules! differing {
        ($($($field:ident).+),* $(,)?) => {{
            let mut differing = Vec::new();
            $(
                if format!("{:?}", old.$($field).+) != format!("{:?}", new.$($field).+) {
                    differing.push(stringify!($($field).+).replace(' ', ""));
                }
            )*
            differing
        }};
    }
    differing!(
        hostname,
        node_id,
        data_dir,
        store,
        listen,
        tls,
        server.user,
        server.group,
        server.allow_root,
        dns,
        delivery,
        queue,
        auth_checks,
        dnsbl,
        greylist,
        rspamd,
        spam,
        quota,
        submission.send_as,
        smtp.pregreet_memory,
        limits.max_connections,
        limits.max_connections_per_address,
        auth.failure_delay_ms,
        auth.max_failures,
        auth.max_network_failures,
        auth.max_site_failures,
        auth.lockout,
        auth.max_throttle_entries,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_what_needs_a_restart_and_not_what_changes_live() {
        let old: Config = toml::from_str("[smtp]\nmax_message_size = 1000\n").unwrap();
        let new: Config = toml::from_str(
            "hostname = \"other.example\"\n[smtp]\nmax_message_size = 2000\n\
             [listen]\nsmtp = [\"127.0.0.1:2525\"]\n[limits]\nmax_connections = 5\n",
        )
        .unwrap();
        assert_eq!(
            needs_restart(&old, &new),
            ["hostname", "listen", "limits.max_connections"]
        );
        assert!(needs_restart(&old, &old.clone()).is_empty());
    }
}
