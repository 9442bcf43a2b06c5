-- Subscriptions as names of their own (issue 13, defects 4 and 5): a
-- subscription outlives the mailbox it names (RFC 9051 §6.3.7: the server
-- should not remove it when the mailbox goes), so LIST (SUBSCRIBED) can
-- report it \NonExistent and LSUB can still show it. The old per-mailbox
-- column `mailboxes.subscribed` is no longer read.

CREATE TABLE subscriptions (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
INSERT INTO subscriptions (account_id, name) SELECT account_id, name FROM mailboxes WHERE subscribed = 1;

-- A mailbox's IMAP state with whether it is subscribed, as MailboxInfo reads it.
CREATE VIEW mailbox_info AS
SELECT m.id, m.account_id, m.name, m.special_use, m.uidvalidity, m.uidnext, m.highestmodseq,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name) AS subscribed
FROM mailboxes m;
