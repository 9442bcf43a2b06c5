-- SORT by DATE (RFC 5256 §2.2: the Date field in UTC, else INTERNALDATE)
-- read from the narrow index of migration 15 instead of each message's
-- sort keys: the join to message_sort_keys was most of a SORT's time on
-- 100 000 messages. NULL for a message stored without sort keys (SORT
-- then works its keys out from the header). Filled from the keys stored
-- so far: `k1<seconds>;...`, the seconds empty when there is no Date.

ALTER TABLE messages ADD COLUMN sent BIGINT;

UPDATE messages m SET sent = CASE
        WHEN strpos(k.keys, ';') > 3 THEN CAST(substr(k.keys, 3, strpos(k.keys, ';') - 3) AS BIGINT)
        ELSE m.internal_date
    END
FROM message_sort_keys k
WHERE k.message_id = m.id AND substr(k.keys, 1, 2) = 'k1';

DROP INDEX messages_meta;
CREATE INDEX messages_meta ON messages (mailbox_id, uid, modseq, flags, size, internal_date, sent);
