-- Sieve (RFC 5228, issue 23): SQLite's migration 0034 says what each
-- table holds.

CREATE TABLE sieve_scripts (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    active      BIGINT NOT NULL DEFAULT 0,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, name)
);
CREATE UNIQUE INDEX sieve_scripts_one_active ON sieve_scripts (account_id) WHERE active = 1;

CREATE TABLE sieve_domain_scripts (
    domain_id   BIGINT PRIMARY KEY REFERENCES domains(id) ON DELETE CASCADE,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE sieve_global_scripts (
    name        TEXT COLLATE "C" PRIMARY KEY,
    script      TEXT NOT NULL,
    compiled    TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE sieve_seen (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    key         TEXT COLLATE "C" NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
CREATE INDEX sieve_seen_expires ON sieve_seen (expires_at);
