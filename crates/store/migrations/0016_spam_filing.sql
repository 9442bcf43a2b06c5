-- Issue 17: where an account's spam goes. NULL follows the server's
-- `[spam] junk` setting; 1 files it in the Junk mailbox, 0 in the INBOX
-- (with the verdict's header fields only).

ALTER TABLE accounts ADD COLUMN spam_to_junk INTEGER;
