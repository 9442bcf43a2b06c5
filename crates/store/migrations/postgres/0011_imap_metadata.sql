-- IMAP METADATA entries of the server (mailbox_id 0) and of mailboxes
-- (SQLite's migration 0025).

CREATE TABLE imap_metadata (
    account_id  BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    mailbox_id  BIGINT NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    value       BYTEA NOT NULL,
    PRIMARY KEY (account_id, mailbox_id, name)
);
