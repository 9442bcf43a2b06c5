-- Certificates by ACME: accounts, certificates and the ordering lease
-- (SQLite's migration 0022).

CREATE TABLE acme_accounts (
    directory    TEXT COLLATE "C" PRIMARY KEY,
    credentials  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE acme_certificates (
    directory   TEXT COLLATE "C" NOT NULL,
    hostname    TEXT COLLATE "C" NOT NULL,
    names       TEXT COLLATE "C" NOT NULL,
    chain_pem   TEXT COLLATE "C" NOT NULL,
    key_pem     TEXT COLLATE "C" NOT NULL,
    not_after   BIGINT NOT NULL,
    renew_at    BIGINT NOT NULL,
    PRIMARY KEY (directory, hostname)
);

CREATE TABLE acme_orders (
    directory  TEXT COLLATE "C" NOT NULL,
    hostname   TEXT COLLATE "C" NOT NULL,
    holder     TEXT COLLATE "C" NOT NULL,
    until      BIGINT NOT NULL,
    PRIMARY KEY (directory, hostname)
);
