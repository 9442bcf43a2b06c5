-- TLS reporting (RFC 8460, issue 21): SQLite's migration 0033 says what
-- each table holds.

CREATE TABLE tls_report_policies (
    day             BIGINT NOT NULL,
    domain          TEXT COLLATE "C" NOT NULL,
    policy_key      TEXT COLLATE "C" NOT NULL,
    policy_type     TEXT NOT NULL,
    policy_strings  TEXT NOT NULL,
    mx_hosts        TEXT NOT NULL,
    successes       BIGINT NOT NULL,
    failures        BIGINT NOT NULL,
    PRIMARY KEY (day, domain, policy_key)
);

CREATE TABLE tls_report_failures (
    day             BIGINT NOT NULL,
    domain          TEXT COLLATE "C" NOT NULL,
    policy_key      TEXT COLLATE "C" NOT NULL,
    result_type     TEXT COLLATE "C" NOT NULL,
    sending_ip      TEXT COLLATE "C" NOT NULL,
    receiving_mx    TEXT COLLATE "C" NOT NULL,
    receiving_ip    TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    PRIMARY KEY (day, domain, policy_key, result_type, sending_ip, receiving_mx, receiving_ip, reason)
);

CREATE TABLE tls_reports_sent (
    day      BIGINT PRIMARY KEY,
    sent_at  BIGINT NOT NULL
);
