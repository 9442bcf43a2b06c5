-- Secrets of the server as a whole (issue 16), by name: `srs` keys the
-- hashes of SRS addresses (store/src/srs.rs). Made on first use, and kept
-- in the store so that every node sharing it makes and accepts the same
-- addresses. A new table only: existing data is untouched.

CREATE TABLE secrets (
    name       TEXT PRIMARY KEY,
    value      BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
