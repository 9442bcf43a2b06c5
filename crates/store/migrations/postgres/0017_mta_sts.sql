-- The MTA-STS policies of the domains we send to (SQLite's migration
-- 0031, which says why).

CREATE TABLE mta_sts_policies (
    domain      TEXT COLLATE "C" PRIMARY KEY,
    policy_id   TEXT COLLATE "C" NOT NULL,
    policy      TEXT COLLATE "C" NOT NULL,
    fetched_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
