-- Quotas (RFC 9208): per-account limits, the warning's state, and the
-- exact usage of each mailbox (SQLite's migration 0023, which says more).

ALTER TABLE accounts ADD COLUMN quota_storage BIGINT;
ALTER TABLE accounts ADD COLUMN quota_messages BIGINT;
ALTER TABLE accounts ADD COLUMN quota_warned BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_bytes BIGINT NOT NULL DEFAULT 0;

UPDATE mailboxes SET
    message_count = (SELECT COUNT(*) FROM messages WHERE mailbox_id = mailboxes.id),
    message_bytes = (SELECT COALESCE(SUM(size), 0) FROM messages WHERE mailbox_id = mailboxes.id);
