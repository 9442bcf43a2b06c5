-- The keys SORT and THREAD order by (SQLite's migration 0027).

CREATE TABLE message_sort_keys (
    message_id  BIGINT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    keys        TEXT COLLATE "C" NOT NULL
);
