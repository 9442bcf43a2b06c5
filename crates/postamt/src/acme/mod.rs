//! Certificates by ACME (RFC 8555): `[tls] acme = { directory, email }`
//! gets a certificate for the hostname (and the `mta-sts.` and
//! `autoconfig.` names of hosted domains, see `names`) from a CA such as
//! Let's Encrypt, proving control of each name with TLS-ALPN-01 (RFC 8737)
//! on the HTTPS listener or HTTP-01 (RFC 8555 §8.3) on the HTTP listener,
//! and renews it at two thirds of its lifetime.
//!
//! The account (per directory URL) and the certificate (per directory
//! and hostname) live in the store, so a restart serves the certificate
//! it has and nodes sharing a PostgreSQL store and a hostname share one
//! certificate: one node orders at a time (a lease in the store), every
//! node polls the store and serves what is there. A new certificate is swapped in through [`net::ServerTls`]:
//! new handshakes get it, established sessions keep theirs.

mod command;
mod http01;
mod names;
mod order;
mod renewal;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use command::{TlsCommand, tls};
pub use http01::Http01Answers;
pub use renewal::{Renewal, serve_stored};

/// `[tls] acme`: where certificates come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcmeConfig {
    /// The CA's ACME directory URL, e.g. Let's Encrypt's
    /// `https://acme-v02.api.letsencrypt.org/directory` (staging:
    /// `https://acme-staging-v02.api.letsencrypt.org/directory`).
    pub directory: String,
    /// A contact address given to the CA with the account (optional).
    #[serde(default)]
    pub email: Option<String>,
    /// PEM file of the CA certificate(s) the directory's HTTPS is checked
    /// against instead of the system's (a private or test ACME server).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// Which `mta-sts.DOMAIN` and `autoconfig.DOMAIN` names of hosted
    /// domains the certificate includes besides the hostname: `resolving`
    /// (those whose addresses in DNS are the hostname's), `all` or `none`.
    #[serde(default = "default_domain_names")]
    pub domain_names: DomainNames,
    /// How the CA validates: `tls-alpn-01` (on `[listen] https`, port
    /// 443) or `http-01` (on `[listen] http`, port 80).
    #[serde(default = "default_challenge")]
    pub challenge: Challenge,
    /// How often the store is looked at for a certificate that is due, was
    /// marked due (`postamt tls renew`) or was stored by another node; also
    /// the first wait after a failed order (doubling up to an hour).
    #[serde(default = "default_poll_seconds")]
    pub poll_seconds: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainNames {
    Resolving,
    All,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Challenge {
    #[serde(rename = "tls-alpn-01")]
    TlsAlpn01,
    #[serde(rename = "http-01")]
    Http01,
}

fn default_challenge() -> Challenge {
    Challenge::TlsAlpn01
}

fn default_domain_names() -> DomainNames {
    DomainNames::Resolving
}

fn default_poll_seconds() -> u64 {
    60
}

impl AcmeConfig {
    /// Takes `ca_file` relative to the config file's directory.
    pub fn relative_to(mut self, base: &Path) -> AcmeConfig {
        self.ca_file = self.ca_file.map(|path| base.join(path));
        self
    }
}

/// Refuses what cannot work together: certificates from ACME and from
/// files at once.
pub fn check(tls: &crate::config::Tls) -> anyhow::Result<()> {
    let Some(acme) = &tls.acme else {
        return Ok(());
    };
    if tls.cert.is_some() || tls.key.is_some() {
        anyhow::bail!(
            "[tls] acme and [tls] cert/key both name where the certificate comes from: \
             keep `acme` to have postamt get certificates itself, or `cert` and `key` to \
             serve files another tool (certbot) renews"
        );
    }
    if !acme.directory.starts_with("https://") {
        anyhow::bail!("[tls] acme directory = {:?} must be an https:// URL", acme.directory);
    }
    if acme.poll_seconds == 0 {
        anyhow::bail!("[tls] acme poll_seconds must be at least 1");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn checked(toml: &str) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(toml)?;
        super::check(&config.tls)?;
        Ok(config)
    }

    /// The README shows `[tls.acme]` commented out (its example serves
    /// files); uncommented, it is a working configuration.
    #[test]
    fn the_readme_acme_keys_parse() {
        let readme = include_str!("../../../../README.md");
        let block: String = readme
            .lines()
            .skip_while(|line| *line != "# [tls.acme]")
            .take_while(|line| line.starts_with("# "))
            .map(|line| format!("{}\n", line.trim_start_matches("# ")))
            .collect();
        let config = checked(&block).unwrap_or_else(|e| panic!("README's [tls.acme]: {e:#}\n{block}"));
        let acme = config.tls.acme.expect("[tls.acme]");
        assert_eq!(acme.directory, "https://acme-v02.api.letsencrypt.org/directory");
        assert_eq!(acme.email.as_deref(), Some("postmaster@example.org"));
        assert_eq!(acme.domain_names, super::DomainNames::Resolving);
        assert_eq!(acme.poll_seconds, 60);
        assert!(acme.ca_file.is_some());
        assert_eq!(acme.challenge, super::Challenge::TlsAlpn01);
    }

    #[test]
    fn defaults_and_the_inline_form() {
        let config = checked("[tls]\nacme = { directory = \"https://acme.example/dir\" }\n").unwrap();
        let acme = config.tls.acme.unwrap();
        assert_eq!((acme.email, acme.ca_file), (None, None));
        assert_eq!(acme.domain_names, super::DomainNames::Resolving);
        assert_eq!(acme.poll_seconds, 60);
        assert_eq!(acme.challenge, super::Challenge::TlsAlpn01);
        let config = checked("[tls.acme]\ndirectory = \"https://a.example/\"\nchallenge = \"http-01\"\n").unwrap();
        assert_eq!(config.tls.acme.unwrap().challenge, super::Challenge::Http01);
    }

    #[test]
    fn acme_and_certificate_files_are_refused_together() {
        let error =
            checked("[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\nacme = { directory = \"https://acme.example/dir\" }\n")
                .unwrap_err()
                .to_string();
        assert!(error.contains("[tls] acme and [tls] cert/key"), "{error}");
        let error = checked("[tls]\nacme = { directory = \"http://acme.example/dir\" }\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("https://"), "{error}");
        assert!(checked("[tls]\nacme = { directory = \"https://a.example/\", names = \"all\" }\n").is_err());
        assert!(checked("[tls]\nacme = { directory = \"https://a.example/\", domain_names = \"some\" }\n").is_err());
    }
}
