-- Issue 20: OBJECTID (RFC 8474), SAVEDATE (RFC 8514) and PREVIEW (RFC 8970).
--
-- `mailboxes.object_id` is the MAILBOXID ('M' and 24 hex digits, random:
-- it says nothing about other mailboxes or users), kept across RENAME.
-- `messages.email_id` is the EMAILID ('E...', random when the content is
-- first stored, carried by COPY and MOVE), `thread_id` the THREADID
-- ('T...', taken from the message it answers, see `object_ids.rs`),
-- `header_message_id` its own Message-ID (without brackets) that later replies
-- are matched on, `save_date` when it was put in its mailbox (Unix
-- seconds), `preview` its PREVIEW text.
--
-- Existing rows: copies of one content (same blob and trace fields) in
-- one account share an EMAILID, as COPY would have given them; each is
-- its own thread (the Message-IDs were not kept); the save date is taken
-- to be the internal date, the delivery time for delivered mail; the
-- preview stays NULL and is worked out when FETCH asks for it.

ALTER TABLE mailboxes ADD COLUMN object_id TEXT;
UPDATE mailboxes SET object_id = 'M' || lower(hex(randomblob(12)));

ALTER TABLE messages ADD COLUMN email_id TEXT;
ALTER TABLE messages ADD COLUMN thread_id TEXT;
ALTER TABLE messages ADD COLUMN header_message_id TEXT;
ALTER TABLE messages ADD COLUMN save_date INTEGER;
ALTER TABLE messages ADD COLUMN preview TEXT;

UPDATE messages SET email_id = 'E' || lower(hex(randomblob(12))), save_date = internal_date;
UPDATE messages SET email_id = (
    SELECT orig.email_id FROM messages orig
    JOIN mailboxes ob ON ob.id = orig.mailbox_id
    WHERE orig.blob_hash = messages.blob_hash AND orig.trace_headers = messages.trace_headers
      AND ob.account_id = (SELECT account_id FROM mailboxes WHERE id = messages.mailbox_id)
    ORDER BY orig.id LIMIT 1);
UPDATE messages SET thread_id = 'T' || substr(email_id, 2);

-- Replies find the thread of the message they answer by its Message-ID.
CREATE INDEX messages_header_message_id ON messages (header_message_id) WHERE header_message_id IS NOT NULL;

DROP VIEW mailbox_info;
CREATE VIEW mailbox_info AS
SELECT m.id, m.account_id, m.name, m.special_use, m.uidvalidity, m.uidnext, m.highestmodseq,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name) AS subscribed,
       m.object_id
FROM mailboxes m;
