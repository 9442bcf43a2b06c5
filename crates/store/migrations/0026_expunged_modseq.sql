-- The UIDs expunged from a mailbox after a MODSEQ, in one range scan: a
-- session bringing its view up to date (and QRESYNC, RFC 7162 §3.2.5)
-- reads only the expunges it has not seen, not every UID the mailbox
-- ever lost.
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);
