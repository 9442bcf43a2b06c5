-- POP3 maildrop locks for the whole cluster (SQLite's migration 0019).

CREATE TABLE maildrop_locks (
    account_id  BIGINT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    instance    TEXT COLLATE "C" NOT NULL,
    token       TEXT COLLATE "C" NOT NULL
);
