//! The MTA-STS policy of hosted domains (RFC 8461): served at
//! `https://mta-sts.DOMAIN/.well-known/mta-sts.txt` (§3.3), and its id
//! for the `_mta-sts.DOMAIN` TXT record (§3.1) that `postamt dns` prints.

use super::request::Request;
use super::settings::MtaStsSettings;
use super::{Response, Web};

pub const PATH: &str = "/.well-known/mta-sts.txt";

/// The policy for a domain: every MX name senders may deliver to is
/// ours, so one policy serves every hosted domain. Lines end with CRLF
/// (§3.2).
pub fn policy(settings: &MtaStsSettings, hostname: &str) -> String {
    let mut text = format!("version: STSv1\r\nmode: {}\r\n", settings.mode.name());
    let mut names = vec![hostname.trim_end_matches('.').to_ascii_lowercase()];
    for name in &settings.mx {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !names.contains(&name) {
            names.push(name);
        }
    }
    for name in names {
        text.push_str(&format!("mx: {name}\r\n"));
    }
    text.push_str(&format!("max_age: {}\r\n", settings.max_age.min(31_557_600)));
    text
}

/// The policy's id: a short hash of its text, so it changes exactly when
/// the policy does (§3.1 asks senders to refetch on a new id).
pub fn policy_id(policy: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, policy.as_bytes());
    // §3.1: 1 to 32 letters and digits.
    digest.as_ref()[..10].iter().map(|b| format!("{b:02x}")).collect()
}

/// The policy, for a request to `mta-sts.<hosted domain>`; 404 for any
/// other host, since a policy served for a name we do not host would be
/// trusted by senders (§3.3 binds the policy to the host).
pub async fn answer(web: &Web, request: &Request) -> Response {
    let host = request.host();
    let Some(domain) = host.strip_prefix("mta-sts.") else {
        return Response::not_found();
    };
    if web.hosted(domain).await.is_none() {
        return Response::not_found();
    }
    let settings = web.settings();
    Response::new(
        200,
        "text/plain",
        policy(&settings.mta_sts, &settings.hostname).into_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_follows_the_policy() {
        let mut settings = MtaStsSettings::default();
        let testing = policy(&settings, "mx.example.org.");
        assert_eq!(
            testing,
            "version: STSv1\r\nmode: testing\r\nmx: mx.example.org\r\nmax_age: 604800\r\n"
        );
        settings.mode = super::super::settings::MtaStsMode::Enforce;
        let enforce = policy(&settings, "mx.example.org");
        assert_ne!(policy_id(&testing), policy_id(&enforce));
        assert_eq!(policy_id(&testing).len(), 20);
    }
}
