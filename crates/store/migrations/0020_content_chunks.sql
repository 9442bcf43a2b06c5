-- Large message content kept in PostgreSQL as chunks of at most 1 MiB
-- (store::chunks). A store on SQLite keeps it in blob files instead, so
-- these tables stay empty here; they exist so that both engines have one
-- schema.

CREATE TABLE chunked_content (
    hash        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE content_chunks (
    hash  TEXT NOT NULL REFERENCES chunked_content (hash) ON DELETE CASCADE,
    seq   INTEGER NOT NULL,
    data  BLOB NOT NULL,
    PRIMARY KEY (hash, seq)
);
