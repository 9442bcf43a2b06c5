//! `[quota]`: the limits (RFC 9208 STORAGE and MESSAGE) of accounts that
//! have none of their own (`postamt user quota` sets those), and when the
//! user is warned. Without the section nothing is limited, so existing
//! installations behave as before.

use serde::Deserialize;

/// `[quota]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaSettings {
    /// Octets per account: a number, or "500M", "2G" (powers of 1024),
    /// or "none".
    pub storage: Size,
    /// Messages per account; 0 or absent: no limit.
    pub messages: u64,
    /// Percent of a limit at which the user gets one warning message;
    /// 0 turns it off.
    pub warn_percent: u8,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        QuotaSettings {
            storage: Size::Octets(0),
            messages: 0,
            warn_percent: 90,
        }
    }
}

/// A size as written in the config file: octets, or text with a unit.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Size {
    Octets(u64),
    Text(String),
}

impl QuotaSettings {
    /// The store's policy; an error names a size that does not parse.
    pub fn policy(&self) -> anyhow::Result<store::QuotaPolicy> {
        anyhow::ensure!(
            self.warn_percent <= 100,
            "[quota] warn_percent = {} is not a percentage (0 to 100)",
            self.warn_percent
        );
        let storage = match &self.storage {
            Size::Octets(n) => *n,
            Size::Text(text) => parse_size(text)
                .map_err(|e| anyhow::anyhow!("[quota] storage: {e}"))?
                .unwrap_or(0),
        };
        Ok(store::QuotaPolicy {
            default: store::QuotaLimits {
                storage: (storage > 0).then_some(storage),
                messages: (self.messages > 0).then_some(self.messages),
            },
            warn_percent: self.warn_percent,
        })
    }
}

/// "1G", "500M", "64K", "1048576" (octets; units are powers of 1024, with
/// or without "B"/"iB"), or "none" (None).
pub fn parse_size(text: &str) -> Result<Option<u64>, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (write 2G, 500M, 100K, a number of octets, or none)"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{text:?} has an unknown unit (K, M, G or T)")),
    };
    number
        .checked_mul(1 << shift)
        .map(Some)
        .ok_or_else(|| format!("{text:?} is too large"))
}

/// `postamt user quota ADDRESS [--storage ..] [--messages ..]`: sets the
/// limits given, then shows usage and limits.
pub async fn user_quota(
    store: &store::Store,
    address: &str,
    storage: Option<String>,
    messages: Option<String>,
) -> anyhow::Result<()> {
    let storage = storage.map(|text| limit(&text, parse_size)).transpose()?;
    let messages = messages
        .map(|text| {
            limit(&text, |t| {
                t.parse()
                    .map(Some)
                    .map_err(|_| format!("{t:?} is not a number of messages"))
            })
        })
        .transpose()?;
    if storage.is_some() || messages.is_some() {
        store
            .set_quota(address, storage, messages)
            .await
            .map_err(crate::admin::explain)?;
    }
    let account = store
        .find_account(address)
        .await?
        .ok_or_else(|| crate::admin::explain(store::Error::NoSuchAccount(address.to_string())))?;
    let usage = store.quota(account.id).await?;
    println!("Quota of {}:", account.address);
    println!(
        "  storage:  {} octets used of {}",
        usage.storage,
        shown(usage.limits.storage, usage.own_storage, " octets")
    );
    println!(
        "  messages: {} used of {}",
        usage.messages,
        shown(usage.limits.messages, usage.own_messages, "")
    );
    if usage.warned {
        println!("  warned: usage is above [quota] warn_percent");
    }
    Ok(())
}

/// An account's setting: `default`, `none`, or a value `parse` reads.
fn limit(text: &str, parse: impl Fn(&str) -> Result<Option<u64>, String>) -> anyhow::Result<store::Limit> {
    Ok(match text.trim() {
        t if t.eq_ignore_ascii_case("default") => store::Limit::Default,
        t if t.eq_ignore_ascii_case("none") => store::Limit::Unlimited,
        t => match parse(t).map_err(|e| anyhow::anyhow!("{e}"))? {
            None => store::Limit::Unlimited,
            Some(n) => store::Limit::At(n),
        },
    })
}

/// "1073741824 octets (the default)", "no limit", ...
fn shown(limit: Option<u64>, own: store::Limit, unit: &str) -> String {
    let value = limit.map_or_else(|| "no limit".to_string(), |n| format!("{n}{unit}"));
    match own {
        store::Limit::Default => format!("{value} (the [quota] default)"),
        _ => value,
    }
}

/// The SMTP check of a hosted recipient (see `smtpd::Backend::check_quota`):
/// each account the address reaches must have room. A store error lets
/// the recipient through: delivery checks again, in its transaction.
pub async fn check_quota(store: &store::Store, recipient: &str, size: u64) -> Result<(), wire::smtp::Reply> {
    let Some((local, domain)) = store::split_address(recipient) else {
        return Ok(());
    };
    let Ok(store::Resolution::Local(targets)) = store.resolve(&local, &domain).await else {
        return Ok(());
    };
    for target in targets {
        let store::Target::Account { id, .. } = target else {
            continue;
        };
        let Ok(usage) = store.quota(id).await else {
            continue;
        };
        let full = |used: u64, limit: Option<u64>, adding: u64| limit.is_some_and(|l| used.saturating_add(adding) > l);
        if usage.limits.storage.is_some_and(|l| size > l) {
            return Err(wire::smtp::Reply::new(
                552,
                "5.2.2",
                format!("<{recipient}>: message larger than the mailbox's quota"),
            ));
        }
        // Full: not even one more octet fits (RFC 3463 X.2.2, temporary:
        // the user may make room).
        if full(usage.storage, usage.limits.storage, size.max(1)) || full(usage.messages, usage.limits.messages, 1) {
            return Err(wire::smtp::Reply::new(
                452,
                "4.2.2",
                format!("<{recipient}>: mailbox full, try again later"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units_of_1024() {
        assert_eq!(parse_size("1G"), Ok(Some(1 << 30)));
        assert_eq!(parse_size("500M"), Ok(Some(500 << 20)));
        assert_eq!(parse_size("64KiB"), Ok(Some(64 << 10)));
        assert_eq!(parse_size("2048"), Ok(Some(2048)));
        assert_eq!(parse_size("none"), Ok(None));
        assert!(parse_size("1X").is_err());
        assert!(parse_size("G").is_err());
        let number = |t: &str| t.parse().map(Some).map_err(|_| String::new());
        assert_eq!(limit("default", number).unwrap(), store::Limit::Default);
        assert_eq!(limit("none", parse_size).unwrap(), store::Limit::Unlimited);
        assert_eq!(limit("2K", parse_size).unwrap(), store::Limit::At(2048));
        assert!(limit("many", number).is_err());
    }

    #[test]
    fn without_the_section_nothing_is_limited() {
        let policy = QuotaSettings::default().policy().unwrap();
        assert_eq!(policy.default, store::QuotaLimits::default());
        assert_eq!(policy.warn_percent, 90);
        let settings: QuotaSettings = toml::from_str("storage = \"1G\"\nmessages = 50000").unwrap();
        let policy = settings.policy().unwrap();
        assert_eq!(policy.default.storage, Some(1 << 30));
        assert_eq!(policy.default.messages, Some(50000));
        let settings: QuotaSettings = toml::from_str("storage = 1000").unwrap();
        assert_eq!(settings.policy().unwrap().default.storage, Some(1000));
    }
}
