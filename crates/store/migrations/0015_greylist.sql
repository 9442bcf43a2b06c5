-- Issue 17: greylisting (off by default). A triplet is a client network
-- (IPv4 /24 or IPv6 /64, in text), a sender and a recipient; it passes
-- when its mail is retried after the delay and within the retry window,
-- and stays passed while mail keeps coming. A network whose triplets
-- passed often enough passes as a whole. Rows expire; a task removes them.

CREATE TABLE greylist (
    network    TEXT NOT NULL,
    sender     TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    passed_at  INTEGER,
    last_seen  INTEGER NOT NULL,
    PRIMARY KEY (network, sender, recipient)
) WITHOUT ROWID;
CREATE INDEX greylist_last_seen ON greylist (last_seen);

CREATE TABLE greylist_networks (
    network   TEXT PRIMARY KEY,
    passes    INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
) WITHOUT ROWID;
