-- Issue 18: a POP3 maildrop is locked for the whole cluster (RFC 1939 §8),
-- not only within one process. A row names the process (the `instance` of
-- its node claim) and the session (`token`) holding the lock; it counts
-- while that instance's node claim is alive, so a crashed node's locks
-- lapse with its claim.

CREATE TABLE maildrop_locks (
    account_id  INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    instance    TEXT NOT NULL,
    token       TEXT NOT NULL
);
