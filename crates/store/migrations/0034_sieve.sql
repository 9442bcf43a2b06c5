-- Sieve (RFC 5228, issue 23): each account's scripts as uploaded over
-- ManageSieve or the CLI, with the compiled form that deliveries run (the
-- `sieve` crate's program, as JSON) so no delivery parses a script. At
-- most one script of an account is active (RFC 5804 §1.1). A domain may
-- have a default script that runs for accounts without an active one,
-- and scripts that `include :global` names (RFC 6609) are the server's.

CREATE TABLE sieve_scripts (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    active      INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active = 1;

CREATE TABLE sieve_domain_scripts (
    domain_id   INTEGER PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE sieve_global_scripts (
    name        TEXT PRIMARY KEY,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- What a script's run remembers between deliveries: the vacation replies
-- sent (one per sender and handle per period, RFC 5230 §4.2) and the
-- duplicate test's identifiers (RFC 7352). `key` is a SHA-256 in hex of
-- what identifies the reply or message; a row counts until `expires_at`.
CREATE TABLE sieve_seen (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX sieve_seen_expires ON sieve_seen (expires_at);
