-- Rate limits counted for the whole cluster (SQLite's migration 0021).

CREATE TABLE rate_counters (
    key           TEXT COLLATE "C" NOT NULL,
    window_start  BIGINT NOT NULL,
    count         BIGINT NOT NULL,
    PRIMARY KEY (key, window_start)
);
