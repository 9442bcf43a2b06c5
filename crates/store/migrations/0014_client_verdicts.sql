-- Issue 17: what the MX port remembers of client addresses (the pregreet
-- test, smtpd's client_memory.rs), so a restart does not make every known
-- sender wait again. `client` is an IPv4 address or an IPv6 /64 in text;
-- rows past `until` (Unix seconds) are forgotten by the periodic cleanup,
-- which also keeps the table bounded. A new table only.

CREATE TABLE client_verdicts (
    client TEXT PRIMARY KEY,
    passed INTEGER NOT NULL,
    until  INTEGER NOT NULL
);
CREATE INDEX client_verdicts_until ON client_verdicts (until);
