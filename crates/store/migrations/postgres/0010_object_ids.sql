-- OBJECTID, SAVEDATE and PREVIEW: SQLite's migration 0024, which says
-- what each column holds and how existing rows are filled.

ALTER TABLE mailboxes ADD COLUMN object_id TEXT COLLATE "C";
UPDATE mailboxes SET object_id = 'M' || substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 24);

ALTER TABLE messages ADD COLUMN email_id TEXT COLLATE "C";
ALTER TABLE messages ADD COLUMN thread_id TEXT COLLATE "C";
ALTER TABLE messages ADD COLUMN header_message_id TEXT COLLATE "C";
ALTER TABLE messages ADD COLUMN save_date BIGINT;
ALTER TABLE messages ADD COLUMN preview TEXT COLLATE "C";

UPDATE messages SET email_id = 'E' || substr(md5(random()::text || clock_timestamp()::text || id::text), 1, 24),
                    save_date = internal_date;
UPDATE messages SET email_id = (
    SELECT orig.email_id FROM messages orig
    JOIN mailboxes ob ON ob.id = orig.mailbox_id
    WHERE orig.blob_hash = messages.blob_hash AND orig.trace_headers = messages.trace_headers
      AND ob.account_id = (SELECT account_id FROM mailboxes WHERE id = messages.mailbox_id)
    ORDER BY orig.id LIMIT 1);
UPDATE messages SET thread_id = 'T' || substr(email_id, 2);

CREATE INDEX messages_header_message_id ON messages (header_message_id) WHERE header_message_id IS NOT NULL;

DROP VIEW mailbox_info;
CREATE VIEW mailbox_info AS
SELECT m.id, m.account_id, m.name, m.special_use, m.uidvalidity, m.uidnext, m.highestmodseq,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name) AS subscribed,
       m.object_id
FROM mailboxes m;
