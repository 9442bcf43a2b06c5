-- Issue 18: the nodes that serve this store. A node claims its id at
-- start and renews the claim while it runs; a second process with the
-- same id is refused while the claim is alive, so two nodes never share
-- queue leases by mistake.

CREATE TABLE nodes (
    id          TEXT PRIMARY KEY,
    instance    TEXT NOT NULL,
    alive_until INTEGER NOT NULL
);
