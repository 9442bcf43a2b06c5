-- Issue 17: what users taught about spam. A message copied or moved into
-- a \Junk mailbox (or appended there) is spam, one moved out of it into
-- any mailbox but \Trash is ham; each message's content (by blob) is
-- taught at most once per class: `pending` until the spam filter learned
-- it, then `done`.

CREATE TABLE spam_training (
    blob_hash  TEXT PRIMARY KEY,
    class      TEXT NOT NULL CHECK (class IN ('spam', 'ham')),
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX spam_training_pending ON spam_training (updated_at) WHERE state = 'pending';
