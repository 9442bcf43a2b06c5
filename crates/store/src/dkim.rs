//! DKIM keys of hosted domains (RFC 6376 §3.1: a domain publishes keys
//! under selectors). Each domain has at most one `active` key per
//! algorithm, the one that signs; rotation turns the previous ones into
//! `published` (still in DNS, so mail already signed still verifies) and
//! the operator retires them later, which also forgets the private key.
//! The keys themselves are made by msgauth; the store only keeps them.

use crate::sql::OptionalExtension;

use crate::address::normalize_domain;
use crate::{Error, Result, Store};

/// Where a key is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DkimState {
    /// Signs new mail.
    Active,
    /// Rotated out: no longer signs, still to be published in DNS.
    Published,
    /// Out of use: its DNS record may go; the private key is deleted.
    Retired,
}

impl DkimState {
    pub fn name(self) -> &'static str {
        match self {
            DkimState::Active => "active",
            DkimState::Published => "published",
            DkimState::Retired => "retired",
        }
    }

    fn parse(name: &str) -> DkimState {
        match name {
            "active" => DkimState::Active,
            "published" => DkimState::Published,
            _ => DkimState::Retired,
        }
    }
}

/// A key as listed: everything but the private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimKey {
    pub selector: String,
    /// `ed25519-sha256` or `rsa-sha256`.
    pub algorithm: String,
    pub public_key: Vec<u8>,
    pub created_at: i64,
    pub state: DkimState,
}

/// An active key with its private half, for signing.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Never reused for another key, so it can name a parsed key in a cache.
    pub id: i64,
    pub selector: String,
    pub algorithm: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("selector", &self.selector)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// A key to add.
pub struct NewDkimKey {
    pub algorithm: String,
    /// The selector to use; if taken, `2`, `3`, ... is appended until free.
    pub selector: String,
    pub private_key: Vec<u8>,
    pub public_key: Vec<u8>,
}

impl Store {
    /// Hosts a new domain together with its first DKIM keys, in one write.
    pub async fn add_domain_with_dkim(&self, name: &str, keys: Vec<NewDkimKey>) -> Result<Vec<String>> {
        let name = normalize_domain(name);
        crate::domains::check_domain_name(&name)?;
        self.batched(move |tx| {
            crate::domains::insert_domain(tx, &name)?;
            add_keys(tx, &name, &keys)
        })
        .await
    }

    /// Adds keys that sign from now on; the active keys of the same
    /// algorithms become `published`. Returns the selectors given.
    pub async fn rotate_dkim_keys(&self, domain: &str, keys: Vec<NewDkimKey>) -> Result<Vec<String>> {
        let domain = normalize_domain(domain);
        self.batched(move |tx| add_keys(tx, &domain, &keys)).await
    }

    /// The domain's keys, oldest first, without private keys.
    pub async fn dkim_keys(&self, domain: &str) -> Result<Vec<DkimKey>> {
        let domain = normalize_domain(domain);
        self.point_reads.read(move |c| {
            Store::hosted_domain_id(c, &domain)?;
            c.prepare_cached(
                "SELECT k.selector, k.algorithm, k.public_key, k.created_at, k.state
                 FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
                 WHERE d.name = $1 ORDER BY k.id",
            )?
            .query_map([&domain], |row| {
                Ok(DkimKey {
                    selector: row.get(0)?,
                    algorithm: row.get(1)?,
                    public_key: row.get(2)?,
                    created_at: row.get(3)?,
                    state: DkimState::parse(&row.get::<String>(4)?),
                })
            })?
            .collect::<crate::Result<_>>()
        })
    }

    /// The keys that sign mail from `domain`; none if it is not hosted here.
    pub async fn active_dkim_keys(&self, domain: &str) -> Result<Vec<SigningKey>> {
        let domain = normalize_domain(domain);
        self.point_reads.read(move |c| {
            c.prepare_cached(
                "SELECT k.id, k.selector, k.algorithm, k.private_key
                 FROM dkim_keys k JOIN domains d ON d.id = k.domain_id
                 WHERE d.name = $1 AND k.state = 'active' ORDER BY k.algorithm",
            )?
            .query_map([&domain], |row| {
                Ok(SigningKey {
                    id: row.get(0)?,
                    selector: row.get(1)?,
                    algorithm: row.get(2)?,
                    private_key: row.get(3)?,
                })
            })?
            .collect::<crate::Result<_>>()
        })
    }

    /// Hosted domains with no active key (hosted before keys existed).
    pub async fn domains_without_dkim(&self) -> Result<Vec<String>> {
        self.point_reads.read(|c| {
            c.prepare_cached(
                "SELECT name FROM domains d
                 WHERE NOT EXISTS (SELECT 1 FROM dkim_keys k WHERE k.domain_id = d.id AND k.state = 'active')
                 ORDER BY name",
            )?
            .query_map((), |row| row.get(0))?
            .collect::<crate::Result<_>>()
        })
    }

    /// Takes a rotated-out key out of use and forgets its private key. An
    /// active key cannot be retired: the domain would sign with nothing.
    pub async fn retire_dkim_key(&self, domain: &str, selector: &str) -> Result<()> {
        let domain = normalize_domain(domain);
        let selector = selector.to_string();
        self.batched(move |tx| {
            let domain_id = Store::hosted_domain_id(tx, &domain)?;
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM dkim_keys WHERE domain_id = $1 AND selector = $2")?
                .query_row((domain_id, &selector), |row| row.get(0))
                .optional()?;
            match state.as_deref() {
                None => Err(Error::NoSuchDkimKey {
                    domain: domain.clone(),
                    selector: selector.clone(),
                }),
                Some("active") => Err(Error::DkimKeyActive {
                    domain: domain.clone(),
                    selector: selector.clone(),
                }),
                Some(_) => {
                    tx.prepare_cached(
                        "UPDATE dkim_keys SET state = 'retired', private_key = x''
                         WHERE domain_id = $1 AND selector = $2",
                    )?
                    .execute((domain_id, &selector))?;
                    Ok(())
                }
            }
        })
        .await
    }
}

/// Inserts `keys` as the active ones of `domain`, inside a write.
fn add_keys(tx: &crate::sql::Db, domain: &str, keys: &[NewDkimKey]) -> Result<Vec<String>> {
    let domain_id = Store::hosted_domain_id(tx, domain)?;
    let now = crate::now();
    let mut selectors = Vec::with_capacity(keys.len());
    for key in keys {
        tx.prepare_cached(
            "UPDATE dkim_keys SET state = 'published' WHERE domain_id = $1 AND algorithm = $2 AND state = 'active'",
        )?
        .execute((domain_id, &key.algorithm))?;
        let selector = free_selector(tx, domain_id, &key.selector)?;
        tx.prepare_cached(
            "INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, public_key, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )?
        .execute((
            domain_id,
            &selector,
            &key.algorithm,
            &key.private_key,
            &key.public_key,
            now,
        ))?;
        selectors.push(selector);
    }
    Ok(selectors)
}

/// `wanted`, or the first of `wanted2`, `wanted3`, ... not yet used by the
/// domain (selectors are named by date, and rotating twice a day must give
/// new names).
fn free_selector(tx: &crate::sql::Db, domain_id: i64, wanted: &str) -> Result<String> {
    let mut taken =
        tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM dkim_keys WHERE domain_id = $1 AND selector = $2)")?;
    for n in 1.. {
        let candidate = if n == 1 {
            wanted.to_string()
        } else {
            format!("{wanted}{n}")
        };
        if !taken.query_row((domain_id, &candidate), |row| row.get::<bool>(0))? {
            return Ok(candidate);
        }
    }
    unreachable!("some selector is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(algorithm: &str, selector: &str) -> NewDkimKey {
        NewDkimKey {
            algorithm: algorithm.into(),
            selector: selector.into(),
            private_key: vec![1, 2, 3],
            public_key: vec![4, 5],
        }
    }

    #[tokio::test]
    async fn rotation_and_retirement() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let first = vec![key("ed25519-sha256", "20261201e"), key("rsa-sha256", "20261201r")];
        let selectors = store.add_domain_with_dkim("Example.ORG", first).await.unwrap();
        assert_eq!(selectors, ["20261201e", "20261201r"]);
        store.add_domain("plain.example").await.unwrap();
        assert_eq!(store.domains_without_dkim().await.unwrap(), ["plain.example"]);

        let again = vec![key("ed25519-sha256", "20261201e"), key("rsa-sha256", "20261201r")];
        let selectors = store.rotate_dkim_keys("example.org", again).await.unwrap();
        assert_eq!(selectors, ["20261201e2", "20261201r2"]);
        let active = store.active_dkim_keys("example.org").await.unwrap();
        let names: Vec<&str> = active.iter().map(|k| k.selector.as_str()).collect();
        assert_eq!(names, ["20261201e2", "20261201r2"]);
        assert!(store.active_dkim_keys("elsewhere.example").await.unwrap().is_empty());

        assert!(matches!(
            store.retire_dkim_key("example.org", "20261201e2").await,
            Err(Error::DkimKeyActive { .. })
        ));
        assert!(matches!(
            store.retire_dkim_key("example.org", "nope").await,
            Err(Error::NoSuchDkimKey { .. })
        ));
        store.retire_dkim_key("example.org", "20261201e").await.unwrap();
        let states: Vec<_> = store
            .dkim_keys("example.org")
            .await
            .unwrap()
            .into_iter()
            .map(|k| (k.selector, k.state))
            .collect();
        assert_eq!(
            states,
            [
                ("20261201e".to_string(), DkimState::Retired),
                ("20261201r".to_string(), DkimState::Published),
                ("20261201e2".to_string(), DkimState::Active),
                ("20261201r2".to_string(), DkimState::Active),
            ]
        );
        assert!(matches!(
            store.dkim_keys("nope.example").await,
            Err(Error::NoSuchDomain(_))
        ));
        // A domain goes with its keys.
        store.remove_domain("example.org").await.unwrap();
        assert!(store.add_domain_with_dkim("example.org", vec![]).await.is_ok());
    }
}
