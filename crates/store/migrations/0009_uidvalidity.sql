-- UIDVALIDITY from a store-wide counter (issue 13, defect 2): each new
-- mailbox takes a value above every one handed out before, so a name that
-- is deleted and created again never gets back the UIDVALIDITY a client
-- cached for the old mailbox (RFC 9051 §2.3.1.1), whatever the clock says.
-- One row. It starts above every UIDVALIDITY in use and at least at the
-- current time, as the values the clock gave before did.

CREATE TABLE uidvalidity_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    last  INTEGER NOT NULL
);
INSERT INTO uidvalidity_counter (id, last)
SELECT 1, MAX(COALESCE((SELECT MAX(uidvalidity) FROM mailboxes), 0), CAST(strftime('%s', 'now') AS INTEGER));
