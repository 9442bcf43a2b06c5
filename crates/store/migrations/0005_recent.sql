-- IMAP4rev1 \Recent (RFC 3501 §2.3.2): messages with a UID at or above
-- recent_uid have not been shown as recent to any session yet.

ALTER TABLE mailboxes ADD COLUMN recent_uid INTEGER NOT NULL DEFAULT 1;
