-- The UIDs expunged from a mailbox after a MODSEQ, in one range scan
-- (SQLite's migration 0026).
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);
