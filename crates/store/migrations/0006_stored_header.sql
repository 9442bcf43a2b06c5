-- The header section of each message's content (up to and including the
-- blank line), kept beside the facts so that header FETCHes and header
-- SEARCH criteria need not open the blob. NULL for messages stored before
-- this migration: those are read from their blob as before.

ALTER TABLE messages ADD COLUMN header BLOB;
