-- Partial indexes of the messages without \Seen and with \Deleted (the
-- bits 1 and 8 of `flags`, see store::Flags): SELECT's first unseen,
-- SEARCH UNSEEN and DELETED, STATUS UNSEEN and EXPUNGE read only those
-- messages, not every row of a large mailbox (issue 20). A query uses one
-- when its WHERE has the same term (`flags & 1 = 0`, `flags & 8 <> 0`).

CREATE INDEX messages_unseen ON messages (mailbox_id, uid) WHERE flags & 1 = 0;
CREATE INDEX messages_deleted ON messages (mailbox_id, uid) WHERE flags & 8 <> 0;
