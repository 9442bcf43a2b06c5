//! MTA-STS (RFC 8461) as a sender: whether a recipient domain has a
//! policy (its `_mta-sts` TXT record, `record`), the policy itself
//! (fetched over verified HTTPS, `fetch`; parsed, `policy`), and a cache of
//! policies in memory and in the store (`cache`), so that a policy once
//! seen is enforced until it expires even if an attacker later hides the
//! TXT record or the policy server (§5.1, §10.2). What a policy asks of a
//! delivery is decided in `remote::security`.

mod cache;
mod fetch;
mod policy;
mod record;

pub use cache::{Discovery, Policies};
pub use fetch::{FETCH_TIME_LIMIT, FetchError, Fetched, Fetcher, MAX_BODY};
pub use policy::{MAX_AGE_LIMIT, MAX_MX_PATTERNS, Mode, Policy, PolicyError, mx_matches};
pub use record::{parse_record, policy_id};
