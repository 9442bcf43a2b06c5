-- Text compares bytewise, as SQLite's BINARY collation does, whatever
-- locale the database was created with: mailbox hierarchies are found by
-- name ranges ("a/" up to "a0"), and listings sort as on SQLite. The view
-- over mailboxes is made again around the change of its columns.
DROP VIEW mailbox_info;

DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT c.table_name, c.column_name FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND c.data_type = 'text' AND t.table_type = 'BASE TABLE'
    LOOP
        EXECUTE format('ALTER TABLE %I ALTER COLUMN %I TYPE TEXT COLLATE "C"', col.table_name, col.column_name);
    END LOOP;
END
$$;

CREATE VIEW mailbox_info AS
SELECT m.id, m.account_id, m.name, m.special_use, m.uidvalidity, m.uidnext, m.highestmodseq,
       EXISTS (SELECT 1 FROM subscriptions s WHERE s.account_id = m.account_id AND s.name = m.name) AS subscribed
FROM mailboxes m;
