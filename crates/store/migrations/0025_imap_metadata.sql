-- IMAP METADATA (RFC 5464): entries of the server (mailbox_id 0) and of
-- each mailbox, per account. `name` is the entry's lower-cased name
-- (entry names are case-insensitive, RFC 5464 §3.2), starting with
-- /private/ or /shared/; with no other users to share with, /shared
-- entries are the account's too. A mailbox's entries follow it on RENAME
-- (its id stays) and go with it on DELETE (the store removes them).

CREATE TABLE imap_metadata (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    mailbox_id  INTEGER NOT NULL,
    name        TEXT NOT NULL,
    value       BLOB NOT NULL,
    PRIMARY KEY (account_id, mailbox_id, name)
);
