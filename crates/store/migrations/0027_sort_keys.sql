-- The keys SORT and THREAD order by (RFC 5256: sent date, base subject,
-- first addresses, message ids; the imf crate's stored form), worked out
-- once at delivery, so that sorting a mailbox reads one narrow row per
-- message instead of parsing every header. A table of its own like
-- message_search; messages without a row are sorted from their header.

CREATE TABLE message_sort_keys (
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    keys        TEXT NOT NULL
);
