-- Issue 19: certificates by ACME (RFC 8555), kept in the store so that a
-- restart serves the certificate it has instead of ordering again, and so
-- that the nodes of a cluster share one certificate and one account.
-- Everything is per directory URL: a staging and a production account are
-- different accounts, and their certificates are different certificates.
-- Certificates (and the lease to order one) are also per hostname: nodes
-- of a cluster with names of their own (mx1, mx2) each have theirs, nodes
-- sharing a name share one.
--
-- `acme_accounts.credentials` is the ACME client's serialized account (its
-- id and private key); `acme_certificates` holds the chain and private key
-- served, and `renew_at` (Unix seconds) when to order the next one (set to
-- 0 by `postamt tls renew`). `acme_orders` is the lease of the one node
-- that orders at a time.

CREATE TABLE acme_accounts (
    directory    TEXT PRIMARY KEY,
    credentials  TEXT NOT NULL
);

CREATE TABLE acme_certificates (
    directory   TEXT NOT NULL,
    hostname    TEXT NOT NULL,
    names       TEXT NOT NULL,
    chain_pem   TEXT NOT NULL,
    key_pem     TEXT NOT NULL,
    not_after   INTEGER NOT NULL,
    renew_at    INTEGER NOT NULL,
    PRIMARY KEY (directory, hostname)
);

CREATE TABLE acme_orders (
    directory  TEXT NOT NULL,
    hostname   TEXT NOT NULL,
    holder     TEXT NOT NULL,
    until      INTEGER NOT NULL,
    PRIMARY KEY (directory, hostname)
);
