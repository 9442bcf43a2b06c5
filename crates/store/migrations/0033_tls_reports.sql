-- TLS reporting (RFC 8460, issue 21): what outbound sessions met, counted
-- per UTC day, recipient (policy) domain and policy (§4.4), then sent as
-- one report per domain the next day. `policy_key` is the SHA-256 (hex)
-- of the policy's type, strings and MX patterns, which are kept beside it
-- for the report: an MTA-STS policy may be too long for an index entry.
-- `policy_strings` and `mx_hosts` are their lines joined by newlines.

CREATE TABLE tls_report_policies (
    day             INTEGER NOT NULL,
    domain          TEXT NOT NULL,
    policy_key      TEXT NOT NULL,
    policy_type     TEXT NOT NULL,
    policy_strings  TEXT NOT NULL,
    mx_hosts        TEXT NOT NULL,
    successes       INTEGER NOT NULL,
    failures        INTEGER NOT NULL,
    PRIMARY KEY (day, domain, policy_key)
);

-- One row per distinct failure detail (§4.4's failure-details); the
-- writer keeps at most a fixed number per domain and day (see
-- tls_reports.rs), the policy row counts every failure.
CREATE TABLE tls_report_failures (
    day             INTEGER NOT NULL,
    domain          TEXT NOT NULL,
    policy_key      TEXT NOT NULL,
    result_type     TEXT NOT NULL,
    sending_ip      TEXT NOT NULL,
    receiving_mx    TEXT NOT NULL,
    receiving_ip    TEXT NOT NULL,
    reason          TEXT NOT NULL,
    count           INTEGER NOT NULL,
    PRIMARY KEY (day, domain, policy_key, result_type, sending_ip, receiving_mx, receiving_ip, reason)
);

-- The days whose reports were sent (or are being sent by a node that
-- claimed them), so a restart or a second node sends each day once.
CREATE TABLE tls_reports_sent (
    day      INTEGER PRIMARY KEY,
    sent_at  INTEGER NOT NULL
);
