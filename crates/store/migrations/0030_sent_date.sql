-- SORT by DATE (RFC 5256 §2.2: the Date field in UTC, else INTERNALDATE)
-- read from the narrow index of migration 29 instead of each message's
-- sort keys: the join to message_sort_keys was most of a SORT's time on
-- 100 000 messages. NULL for a message stored without sort keys (SORT
-- then works its keys out from the header). Filled from the keys stored
-- so far: `k1<seconds>;...`, the seconds empty when there is no Date.

ALTER TABLE messages ADD COLUMN sent INTEGER;

UPDATE messages SET sent = (
    SELECT CASE
        WHEN instr(k.keys, ';') > 3 THEN CAST(substr(k.keys, 3, instr(k.keys, ';') - 3) AS INTEGER)
        ELSE messages.internal_date
    END
    FROM message_sort_keys k
    WHERE k.message_id = messages.id AND substr(k.keys, 1, 2) = 'k1'
);

DROP INDEX messages_meta;
CREATE INDEX messages_meta ON messages (mailbox_id, uid, modseq, flags, size, internal_date, sent);
