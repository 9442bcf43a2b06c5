-- postamt schema, version 1. Times are Unix seconds (UTC).

CREATE TABLE domains (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,           -- lower case, A-label form
    created_at  INTEGER NOT NULL
);

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    domain_id     INTEGER NOT NULL REFERENCES domains(id),
    local_part    TEXT NOT NULL,                -- lower case
    password_hash TEXT NOT NULL,                -- argon2id PHC string
    created_at    INTEGER NOT NULL,
    UNIQUE (domain_id, local_part)
);

-- One row per (source, target). local_part '' is the domain's catch-all.
-- A target '@other.test' keeps the local part and changes the domain.
CREATE TABLE aliases (
    id          INTEGER PRIMARY KEY,
    domain_id   INTEGER NOT NULL REFERENCES domains(id),
    local_part  TEXT NOT NULL,
    target      TEXT NOT NULL,
    UNIQUE (domain_id, local_part, target)
);

-- IMAP's view of a folder (RFC 9051 §2.3.1.1, RFC 7162 for MODSEQ).
CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,               -- UTF-8, '/' separates levels
    special_use    TEXT,                        -- RFC 6154: \Sent, \Drafts, ...
    uidvalidity    INTEGER NOT NULL,
    uidnext        INTEGER NOT NULL DEFAULT 1,
    highestmodseq  INTEGER NOT NULL DEFAULT 1,
    subscribed     INTEGER NOT NULL DEFAULT 1,
    UNIQUE (account_id, name)
);

-- System flags are a bit set (see store::Flags); keywords have their table.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    mailbox_id     INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid            INTEGER NOT NULL,
    modseq         INTEGER NOT NULL,
    blob_hash      TEXT NOT NULL,
    trace_headers  BLOB NOT NULL,               -- Return-Path, Delivered-To
    size           INTEGER NOT NULL,            -- trace_headers + blob
    internal_date  INTEGER NOT NULL,
    flags          INTEGER NOT NULL DEFAULT 0,
    UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_blob ON messages (blob_hash);

CREATE TABLE message_keywords (
    message_id  INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    keyword     TEXT NOT NULL,
    PRIMARY KEY (message_id, keyword)
);

-- Expunged UIDs with the MODSEQ of their removal, for QRESYNC (RFC 7162).
CREATE TABLE expunged (
    mailbox_id  INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
    uid         INTEGER NOT NULL,
    modseq      INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
);

-- The queue: one row per accepted message, one per recipient.
CREATE TABLE queue_messages (
    id            TEXT PRIMARY KEY,
    reverse_path  TEXT NOT NULL,                -- '' for the null path
    blob_hash     TEXT NOT NULL,
    size          INTEGER NOT NULL,
    received_at   INTEGER NOT NULL
);
CREATE INDEX queue_messages_blob ON queue_messages (blob_hash);

CREATE TABLE queue_recipients (
    id               INTEGER PRIMARY KEY,
    queue_id         TEXT NOT NULL REFERENCES queue_messages(id) ON DELETE CASCADE,
    address          TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | delivered | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    last_reply       TEXT,
    lease_owner      TEXT,
    lease_until      INTEGER
);
CREATE INDEX queue_recipients_due ON queue_recipients (status, next_attempt_at);
CREATE INDEX queue_recipients_message ON queue_recipients (queue_id);
