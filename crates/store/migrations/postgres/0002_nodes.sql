-- The nodes that serve this store (SQLite's migration 0018).

CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    alive_until BIGINT NOT NULL
);
