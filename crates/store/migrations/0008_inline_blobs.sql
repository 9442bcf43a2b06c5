-- Small message content kept in the database (store::content): written in
-- the same commit as the rows that refer to it, content-addressed like the
-- blob files, which keep the larger messages.

CREATE TABLE inline_blobs (
    hash  TEXT PRIMARY KEY,
    data  BLOB NOT NULL
);
