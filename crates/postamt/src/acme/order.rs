//! One ACME order (RFC 8555 §7.4): the account (made once, then read from
//! the store), an order for the names, an answer per pending
//! authorization: TLS-ALPN-01 (RFC 8737 §3) served by the HTTPS listener
//! through [`net::ServerTls::set_challenge`], or HTTP-01 (RFC 8555 §8.3)
//! by the HTTP listener through [`Http01Answers`]; then the CSR and the
//! certificate.

use std::time::Duration;

use anyhow::Context;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus,
    RetryPolicy,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use store::{AcmeCertificate, Store};

use super::{AcmeConfig, Challenge, Http01Answers};

/// How long the CA may take to validate, and then to issue.
const VALIDATION: Duration = Duration::from_secs(120);

/// Orders a certificate for `names` and returns it (not yet stored). Its
/// `renew_at` is two thirds into its lifetime.
pub async fn order(
    config: &AcmeConfig,
    store: &Store,
    (tls, http01): (&net::ServerTls, &Http01Answers),
    names: &[String],
) -> anyhow::Result<AcmeCertificate> {
    let account = account(config, store).await?;
    let identifiers: Vec<Identifier> = names.iter().map(|name| Identifier::Dns(name.clone())).collect();
    let mut order = account
        .new_order(&NewOrder::new(&identifiers))
        .await
        .context("the CA refused the order")?;
    let mut answers = Answers {
        tls: tls.clone(),
        http01: http01.clone(),
        names: Vec::new(),
        tokens: Vec::new(),
    };
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization.context("reading an authorization")?;
        match authorization.status {
            AuthorizationStatus::Pending => {}
            // Validated earlier (RFC 8555 §7.1.4: authorizations may be reused).
            AuthorizationStatus::Valid => continue,
            status => anyhow::bail!("an authorization is {status:?}"),
        }
        let kind = match config.challenge {
            Challenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
            Challenge::Http01 => ChallengeType::Http01,
        };
        let mut challenge = authorization
            .challenge(kind.clone())
            .with_context(|| format!("the CA offers no {kind:?} challenge"))?;
        let key_authorization = challenge.key_authorization();
        if kind == ChallengeType::Http01 {
            http01.set(&challenge.token, key_authorization.as_str());
            answers.tokens.push(challenge.token.clone());
        } else {
            let name = challenge.identifier().to_string();
            let (chain, key) = challenge_certificate(&name, key_authorization.digest().as_ref())?;
            tls.set_challenge(&name, chain, key)?;
            answers.names.push(name);
        }
        challenge
            .set_ready()
            .await
            .context("telling the CA the challenge is ready")?;
    }
    let retries = RetryPolicy::new().timeout(VALIDATION);
    let status = order.poll_ready(&retries).await.context("waiting for validation")?;
    drop(answers);
    if status != OrderStatus::Ready {
        anyhow::bail!("the order is {status:?}: {}", failures(&mut order).await);
    }
    let key_pem = order.finalize().await.context("finalizing the order")?;
    let chain_pem = order
        .poll_certificate(&retries)
        .await
        .context("waiting for the certificate")?;
    let facts = super::renewal::facts(&chain_pem)?;
    Ok(AcmeCertificate {
        names: names.to_vec(),
        chain_pem,
        key_pem,
        not_after: facts.not_after,
        renew_at: super::renewal::renew_at(facts.not_before, facts.not_after),
    })
}

/// The account at the directory: from the store, or made now and stored.
async fn account(config: &AcmeConfig, store: &Store) -> anyhow::Result<Account> {
    let builder = || match &config.ca_file {
        Some(path) => Account::builder_with_root(path)
            .with_context(|| format!("[tls] acme ca_file {} is not a PEM certificate", path.display())),
        None => Account::builder().context("no system root certificates"),
    };
    if let Some(stored) = store.acme_account(&config.directory).await? {
        let credentials: AccountCredentials =
            serde_json::from_str(&stored).context("the stored ACME account cannot be read")?;
        return builder()?
            .from_credentials(credentials)
            .await
            .with_context(|| format!("cannot reach {}", config.directory));
    }
    let contact: Vec<String> = config.email.iter().map(|email| format!("mailto:{email}")).collect();
    let contact: Vec<&str> = contact.iter().map(String::as_str).collect();
    let (account, credentials) = builder()?
        .create(
            &NewAccount {
                contact: &contact,
                terms_of_service_agreed: true,
                only_return_existing: false,
            },
            config.directory.clone(),
            None,
        )
        .await
        .with_context(|| format!("cannot create an account at {}", config.directory))?;
    store
        .save_acme_account(&config.directory, &serde_json::to_string(&credentials)?)
        .await?;
    tracing::info!(directory = %config.directory, id = account.id(), "created an ACME account");
    Ok(account)
}

/// The self-signed certificate that answers TLS-ALPN-01 for `name`: the
/// name as its only subjectAltName and the SHA-256 digest of the key
/// authorization in the critical acmeIdentifier extension (RFC 8737 §3).
fn challenge_certificate(
    name: &str,
    digest: &[u8],
) -> anyhow::Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let mut params = rcgen::CertificateParams::new(vec![name.to_string()])?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate()?;
    let certificate = params.self_signed(&key)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok((vec![certificate.der().clone()], key))
}

/// What the CA said about the names that failed, for the log.
async fn failures(order: &mut instant_acme::Order) -> String {
    let mut said = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        let name = authorization.identifier().to_string();
        for challenge in &authorization.challenges {
            if let Some(error) = &challenge.error {
                said.push(format!("{name}: {error}"));
            }
        }
    }
    if said.is_empty() {
        "the CA gave no reason".into()
    } else {
        said.join("; ")
    }
}

/// The challenge answers of one order, withdrawn when it ends however it
/// ends.
struct Answers {
    tls: net::ServerTls,
    http01: Http01Answers,
    names: Vec<String>,
    tokens: Vec<String>,
}

impl Drop for Answers {
    fn drop(&mut self) {
        for name in &self.names {
            self.tls.remove_challenge(name);
        }
        for token in &self.tokens {
            self.http01.remove(token);
        }
    }
}
