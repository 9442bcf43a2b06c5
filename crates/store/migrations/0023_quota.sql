-- Issue 20: quotas (RFC 9208), one quota root per account with the
-- resources STORAGE and MESSAGE.
--
-- `accounts.quota_storage` (octets) and `accounts.quota_messages`: the
-- account's own limits; NULL follows the server's `[quota]` default, a
-- negative value is "no limit" whatever the default says.
-- `accounts.quota_warned`: 1 once the warning of a nearly full mailbox
-- was delivered, back to 0 when usage falls below the threshold again,
-- so the warning comes once per crossing.
--
-- `mailboxes.message_count` and `mailboxes.message_bytes`: the exact
-- COUNT and SUM(size) of the mailbox's messages, changed by the store in
-- the same transaction as every insert into or delete from `messages`.
-- An account's usage is their sum over its mailboxes, so deleting a
-- mailbox (its messages go by ON DELETE CASCADE) takes its usage along.

ALTER TABLE accounts ADD COLUMN quota_storage INTEGER;
ALTER TABLE accounts ADD COLUMN quota_messages INTEGER;
ALTER TABLE accounts ADD COLUMN quota_warned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_bytes INTEGER NOT NULL DEFAULT 0;

UPDATE mailboxes SET
    message_count = (SELECT COUNT(*) FROM messages WHERE mailbox_id = mailboxes.id),
    message_bytes = (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = mailboxes.id);
