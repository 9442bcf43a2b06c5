-- What the client declared in the envelope, which delivery must honour:
-- RFC 6152 / RFC 3030 body type, RFC 6531 SMTPUTF8, RFC 3461 DSN requests.

ALTER TABLE queue_messages ADD COLUMN body TEXT NOT NULL DEFAULT '7BIT';  -- 7BIT | 8BITMIME | BINARYMIME
ALTER TABLE queue_messages ADD COLUMN smtputf8 INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_messages ADD COLUMN dsn_ret TEXT;                       -- FULL | HDRS
ALTER TABLE queue_messages ADD COLUMN dsn_envid TEXT;                     -- decoded xtext
ALTER TABLE queue_messages ADD COLUMN submitted_by TEXT;                  -- authenticated user

ALTER TABLE queue_recipients ADD COLUMN dsn_notify TEXT;                  -- NEVER, or SUCCESS,FAILURE,DELAY
ALTER TABLE queue_recipients ADD COLUMN dsn_orcpt TEXT;                   -- addr-type;address, decoded
