-- The store-wide UIDVALIDITY counter's one row (SQLite's migration 9 makes
-- it): it starts at the current time, as SQLite's does in a new store.
INSERT INTO uidvalidity_counter (id, last)
VALUES (1, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))
ON CONFLICT DO NOTHING;
