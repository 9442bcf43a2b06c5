-- From, To, Cc, Bcc and Subject as SEARCH matches them (decoded, case
-- folded; the mime crate's format), so that SEARCH on those fields need
-- not parse each header. A table of its own, narrow rows: SEARCH reads
-- them through the (mailbox_id, uid) index without touching the wide
-- message rows. Messages without a row here are searched in their header.

CREATE TABLE message_search (
    message_id  INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    fields      TEXT NOT NULL
);
