-- Issue 21, RFC 8689: what the client asked of the transport, kept with
-- the queued message. require_tls: MAIL FROM carried REQUIRETLS (every
-- onward hop must be TLS with a verified certificate, or the message is
-- returned). tls_optional: its header says `TLS-Required: No` (MTA-STS and
-- DANE failures do not stop it).
ALTER TABLE queue_messages ADD COLUMN require_tls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queue_messages ADD COLUMN tls_optional INTEGER NOT NULL DEFAULT 0;

-- The last remote attempts at each recipient, for `postamt queue show`:
-- when, which host answered, which policy applied (none, opportunistic,
-- mta-sts, dane; NULL when no host was reached), the TLS version and
-- cipher, and the reply. At most 20 per recipient are kept (the queue
-- deletes older ones as it adds); they go with their recipient.
CREATE TABLE queue_attempts (
    id            INTEGER PRIMARY KEY,
    recipient_id  INTEGER NOT NULL REFERENCES queue_recipients(id) ON DELETE CASCADE,
    at            INTEGER NOT NULL,
    host          TEXT,
    policy        TEXT,
    tls_version   TEXT,
    tls_cipher    TEXT,
    reply         TEXT NOT NULL
);
CREATE INDEX queue_attempts_recipient ON queue_attempts (recipient_id, id);
