-- Issue 21: the MTA-STS policies (RFC 8461) of the domains we send to,
-- kept so that a restart (or another node of a cluster) still enforces a
-- policy it fetched, as §5.1 asks: a cached policy stays in force until
-- it expires even when its TXT record disappears or the policy server
-- cannot be reached. One row per recipient domain (lower case, no final
-- dot): the id of the `_mta-sts` TXT record the policy was fetched under
-- (a new id means a new fetch, §3.1), the policy text as served (parsed
-- again when read, so a change to the parser applies to stored rows) and
-- when it was fetched and stops being valid (fetched_at + max_age), in
-- Unix seconds.

CREATE TABLE mta_sts_policies (
    domain      TEXT PRIMARY KEY,
    policy_id   TEXT NOT NULL,
    policy      TEXT NOT NULL,
    fetched_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
