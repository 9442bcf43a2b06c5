-- What remote delivery and DSNs need per recipient and message.

ALTER TABLE queue_recipients ADD COLUMN report TEXT;       -- DSN action still to send: failed | delivered | relayed
ALTER TABLE queue_recipients ADD COLUMN status_code TEXT;  -- RFC 3463 status of the last outcome
ALTER TABLE queue_recipients ADD COLUMN remote_mta TEXT;   -- the host that gave last_reply
ALTER TABLE queue_messages ADD COLUMN delay_warned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX queue_recipients_lease ON queue_recipients (lease_until);
