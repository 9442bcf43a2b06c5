-- What IMAP needs beyond the first slice: the parsed facts of each message
-- (computed once when it is stored) and an index for CONDSTORE lookups.

ALTER TABLE messages ADD COLUMN envelope TEXT;
ALTER TABLE messages ADD COLUMN body_structure TEXT;
ALTER TABLE messages ADD COLUMN body TEXT;
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
