-- Issue 18: rate limits counted for the whole cluster when nodes share a
-- PostgreSQL store (smtpd's limits are per node otherwise). One row per
-- key (limit and user or client address) and fixed window; a sliding
-- window is estimated from the current and the previous one. Kept empty
-- on SQLite, whose one node counts in memory.

CREATE TABLE rate_counters (
    key           TEXT NOT NULL,
    window_start  INTEGER NOT NULL,
    count         INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
