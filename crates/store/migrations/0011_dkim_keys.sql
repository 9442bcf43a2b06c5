-- DKIM keys (issue 16): each hosted domain signs its outgoing mail with
-- one active key per algorithm. A rotated-out key stays `published` (its
-- DNS record must outlive the mail signed with it) until the operator
-- retires it. Private keys are PKCS#8 DER; the database file is mode 0600.
-- A new table only: existing data is untouched.

CREATE TABLE dkim_keys (
    id          INTEGER PRIMARY KEY,
    domain_id   INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    selector    TEXT NOT NULL,
    algorithm   TEXT NOT NULL CHECK (algorithm IN ('ed25519-sha256', 'rsa-sha256')),
    private_key BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'published', 'retired')),
    UNIQUE (domain_id, selector)
);
CREATE INDEX dkim_keys_active ON dkim_keys (domain_id) WHERE state = 'active';
