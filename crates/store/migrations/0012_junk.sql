-- Issue 16: mail that DMARC says to quarantine (p=quarantine) is
-- delivered into the recipient's Junk mailbox; the flag is the server's,
-- set by its inbound checks.

ALTER TABLE queue_messages ADD COLUMN junk INTEGER NOT NULL DEFAULT 0;
