//! `postamt tls status` and `postamt tls renew`: what certificate ACME
//! gave, and a renewal asked for by hand (the running server notices
//! within `poll_seconds`; every node sharing the store does).

use clap::Subcommand;

use crate::config::Config;

#[derive(Subcommand)]
pub enum TlsCommand {
    /// Show the certificate obtained by ACME: names, issuer, expiry, next renewal.
    Status,
    /// Have the running server get a new certificate by ACME now (within
    /// `[tls] acme poll_seconds`), e.g. after adding a domain.
    Renew,
}

pub async fn tls(config: &Config, command: TlsCommand) -> anyhow::Result<()> {
    let Some(acme) = &config.tls.acme else {
        anyhow::bail!(
            "certificates do not come from ACME here (no `[tls] acme` in the config); \
             the server serves {}",
            match &config.tls.cert {
                Some(cert) => cert.display().to_string(),
                None => "a self-signed certificate".to_string(),
            }
        );
    };
    let store = crate::admin::open(config).await?;
    let stored = store.acme_certificate(&acme.directory, &config.hostname).await?;
    match command {
        TlsCommand::Status => {
            println!("directory:    {}", acme.directory);
            let Some(stored) = stored else {
                println!("certificate:  none yet (the server orders one when it runs)");
                return Ok(());
            };
            let facts = super::renewal::facts(&stored.chain_pem)?;
            println!("names:        {}", stored.names.join(" "));
            println!("issuer:       {}", facts.issuer);
            println!("serial:       {}", facts.serial);
            println!("not after:    {}", time(facts.not_after));
            match stored.renew_at {
                0 => println!("next renewal: now (asked for)"),
                at => println!("next renewal: {}", time(at)),
            }
        }
        TlsCommand::Renew => {
            if !store.mark_acme_renewal_due(&acme.directory, &config.hostname).await? {
                anyhow::bail!(
                    "no certificate from {} yet: the server orders the first one when it runs",
                    acme.directory
                );
            }
            println!(
                "The certificate is due: the running server orders a new one within {} seconds.",
                acme.poll_seconds
            );
        }
    }
    Ok(())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn time(seconds: i64) -> String {
    let (year, month, day) = wire::date::civil_from_days(seconds.div_euclid(86_400));
    let rest = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}
