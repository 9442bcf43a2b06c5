//! TLS reporting (RFC 8460): the outcome of every outbound SMTP session,
//! counted per UTC day, recipient (policy) domain and policy as §4.4's
//! aggregate report groups them, and which days' reports went out. The
//! delivery path counts; the daily report reads a day's rows, and the
//! rows are forgotten once the report is sent.
//!
//! Everything here is bounded: a domain's MX hosts and addresses come
//! from its own DNS, so a hostile domain could name a new host or address
//! for every session. Distinct failure details are kept up to
//! [`MAX_FAILURE_ROWS`] and distinct policies up to [`MAX_POLICY_ROWS`]
//! per domain and day; past them the policy's failure count still grows
//! (the summary stays exact), only the detail is left out.

use ring::digest::{SHA256, digest};

use crate::sql::OptionalExtension;
use crate::{Result, Store};

/// Distinct failure details kept per domain and day. A report is meant
/// for people fixing their servers (§4.4): a hundred distinct (result,
/// MX, address, reason) rows say all there is to say, and the summary
/// counts every failure.
pub const MAX_FAILURE_ROWS: i64 = 100;

/// Distinct policies kept per domain and day. A domain has one MTA-STS
/// policy (or one TLSA set per MX) at a time; a few changes in a day are
/// normal, more are a domain changing its policy to fill our store.
pub const MAX_POLICY_ROWS: i64 = 16;

/// Longest text kept of a failure's reason or of a host name, in bytes:
/// a peer's error text is not ours to store at length.
const MAX_TEXT: usize = 255;

/// Longest policy (strings and MX patterns together) kept, in bytes: an
/// MTA-STS policy is at most 64 KiB (RFC 8461 §3.3) but a real one is a
/// few hundred bytes; past this the lines are cut at a line's end.
const MAX_POLICY_TEXT: usize = 8 * 1024;

/// One session's outcome, as the store counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSessionCount {
    /// The start of the session's UTC day (Unix seconds, a multiple of 86 400).
    pub day: i64,
    /// The recipient domain, whose policy applied (§4.3 policy-domain).
    pub domain: String,
    /// `sts`, `tlsa` or `no-policy-found` (§4.3 policy-type).
    pub policy_type: String,
    /// §4.3 policy-string: the policy's lines, or the TLSA records.
    pub policy_strings: Vec<String>,
    /// §4.3 mx-host: the MTA-STS policy's MX patterns.
    pub mx_hosts: Vec<String>,
    /// None for a successful session.
    pub failure: Option<TlsFailure>,
}

/// §4.4's failure-details entry, less its count.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsFailure {
    /// One of §4.3's result types, e.g. `starttls-not-supported`.
    pub result_type: String,
    pub sending_ip: String,
    pub receiving_mx: String,
    pub receiving_ip: String,
    /// failure-reason-code: what went wrong, in our words.
    pub reason: String,
}

/// A day's counts for one policy of one domain, with its failure details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPolicyCounts {
    pub policy_type: String,
    pub policy_strings: Vec<String>,
    pub mx_hosts: Vec<String>,
    pub successes: u64,
    pub failures: u64,
    /// Each with its count.
    pub details: Vec<(TlsFailure, u64)>,
}

/// The start of the UTC day that holds `time` (Unix seconds).
pub fn utc_day(time: i64) -> i64 {
    time - time.rem_euclid(86_400)
}

impl Store {
    /// Counts one session. Policies and failure details past the bounds
    /// above are left out (and logged), never an error.
    pub async fn count_tls_session(&self, count: TlsSessionCount) -> Result<()> {
        let policy_strings = bounded_lines(&count.policy_strings);
        let mx_hosts = bounded_lines(&count.mx_hosts);
        let key = policy_key(&count.policy_type, &policy_strings, &mx_hosts);
        let failure = count.failure.map(|f| TlsFailure {
            result_type: cut(&f.result_type),
            sending_ip: cut(&f.sending_ip),
            receiving_mx: cut(&f.receiving_mx),
            receiving_ip: cut(&f.receiving_ip),
            reason: cut(&f.reason),
        });
        let (day, domain, policy_type) = (count.day, count.domain, count.policy_type);
        let counted = self
            .batched(move |tx| {
                let known: bool = tx
                    .prepare_cached(
                        "SELECT EXISTS (SELECT 1 FROM tls_report_policies WHERE day = $1 AND domain = $2 AND policy_key = $3)",
                    )?
                    .query_row((day, &domain, &key), |row| row.get(0))?;
                if !known {
                    let policies: i64 = tx
                        .prepare_cached("SELECT COUNT(*) FROM tls_report_policies WHERE day = $1 AND domain = $2")?
                        .query_row((day, &domain), |row| row.get(0))?;
                    if policies >= MAX_POLICY_ROWS {
                        return Ok(false);
                    }
                }
                let (successes, failures) = if failure.is_some() { (0, 1) } else { (1, 0) };
                tx.prepare_cached(
                    "INSERT INTO tls_report_policies
                         (day, domain, policy_key, policy_type, policy_strings, mx_hosts, successes, failures)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (day, domain, policy_key) DO UPDATE SET
                         successes = tls_report_policies.successes + excluded.successes,
                         failures = tls_report_policies.failures + excluded.failures",
                )?
                .execute((
                    day,
                    &domain,
                    &key,
                    &policy_type,
                    &policy_strings,
                    &mx_hosts,
                    successes,
                    failures,
                ))?;
                if let Some(f) = &failure {
                    count_failure(tx, day, &domain, &key, f)?;
                }
                Ok(true)
            })
            .await?;
        if !counted {
            tracing::warn!(
                policies = MAX_POLICY_ROWS,
                "a domain had too many distinct TLS policies today; this session is left out of its report"
            );
        }
        Ok(())
    }

    /// The domains with sessions counted on `day`.
    pub async fn tls_report_domains(&self, day: i64) -> Result<Vec<String>> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached("SELECT DISTINCT domain FROM tls_report_policies WHERE day = $1 ORDER BY domain")?
                    .query_map([day], |row| row.get(0))?
                    .collect::<Result<_>>()
            })
            .await
    }

    /// What was counted on `day` for `domain`, policy by policy.
    pub async fn tls_report_counts(&self, day: i64, domain: &str) -> Result<Vec<TlsPolicyCounts>> {
        let domain = domain.to_string();
        self.point_reads
            .scan(move |c| {
                type PolicyRow = (String, String, String, String, i64, i64);
                let policies: Vec<PolicyRow> = c
                    .prepare_cached(
                        "SELECT policy_key, policy_type, policy_strings, mx_hosts, successes, failures
                         FROM tls_report_policies WHERE day = $1 AND domain = $2 ORDER BY policy_key",
                    )?
                    .query_map((day, &domain), |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                            row.get(5)?,
                        ))
                    })?
                    .collect::<Result<_>>()?;
                let mut counts = Vec::with_capacity(policies.len());
                for (key, policy_type, strings, mx_hosts, successes, failures) in policies {
                    let details = c
                        .prepare_cached(
                            "SELECT result_type, sending_ip, receiving_mx, receiving_ip, reason, count
                             FROM tls_report_failures WHERE day = $1 AND domain = $2 AND policy_key = $3
                             ORDER BY result_type, receiving_mx, receiving_ip, sending_ip, reason",
                        )?
                        .query_map((day, &domain, &key), |row| {
                            let failure = TlsFailure {
                                result_type: row.get(0)?,
                                sending_ip: row.get(1)?,
                                receiving_mx: row.get(2)?,
                                receiving_ip: row.get(3)?,
                                reason: row.get(4)?,
                            };
                            Ok((failure, row.get::<i64>(5)?.max(0) as u64))
                        })?
                        .collect::<Result<_>>()?;
                    counts.push(TlsPolicyCounts {
                        policy_type,
                        policy_strings: lines(&strings),
                        mx_hosts: lines(&mx_hosts),
                        successes: successes.max(0) as u64,
                        failures: failures.max(0) as u64,
                        details,
                    });
                }
                Ok(counts)
            })
            .await
    }

    /// Claims `day`'s reports for sending: true for the first caller
    /// (on any node), false once claimed, so each day is sent once.
    pub async fn claim_tls_report_day(&self, day: i64, now: i64) -> Result<bool> {
        self.batched(move |tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO tls_reports_sent (day, sent_at) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
                )?
                .execute((day, now))?;
            Ok(inserted == 1)
        })
        .await
    }

    /// When `day`'s reports were claimed for sending, if they were.
    pub async fn tls_report_day_sent(&self, day: i64) -> Result<Option<i64>> {
        self.point_reads
            .scan(move |c| {
                c.prepare_cached("SELECT sent_at FROM tls_reports_sent WHERE day = $1")?
                    .query_row([day], |row| row.get(0))
                    .optional()
            })
            .await
    }

    /// Forgets the counts of the days before `day` (sent, or too old to
    /// send), and the record of days sent more than a month before it.
    pub async fn forget_tls_counts(&self, day: i64) -> Result<u64> {
        self.batched(move |tx| {
            let mut removed = 0;
            for sql in [
                "DELETE FROM tls_report_failures WHERE day < $1",
                "DELETE FROM tls_report_policies WHERE day < $1",
            ] {
                removed += tx.prepare_cached(sql)?.execute([day])? as u64;
            }
            tx.prepare_cached("DELETE FROM tls_reports_sent WHERE day < $1")?
                .execute([day - 31 * 86_400])?;
            Ok(removed)
        })
        .await
    }
}

/// Counts one failure detail, unless the domain has its fill of them today.
fn count_failure(tx: &crate::sql::Db, day: i64, domain: &str, key: &str, f: &TlsFailure) -> Result<()> {
    // The row's whole identity, for the update and for the insert.
    let row = (
        day,
        domain,
        key,
        &f.result_type,
        &f.sending_ip,
        &f.receiving_mx,
        &f.receiving_ip,
        &f.reason,
    );
    let updated = tx
        .prepare_cached(
            "UPDATE tls_report_failures SET count = count + 1
             WHERE day = $1 AND domain = $2 AND policy_key = $3 AND result_type = $4
               AND sending_ip = $5 AND receiving_mx = $6 AND receiving_ip = $7 AND reason = $8",
        )?
        .execute(row)?;
    if updated > 0 {
        return Ok(());
    }
    let rows: i64 = tx
        .prepare_cached("SELECT COUNT(*) FROM tls_report_failures WHERE day = $1 AND domain = $2")?
        .query_row((day, domain), |row| row.get(0))?;
    if rows >= MAX_FAILURE_ROWS {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO tls_report_failures
             (day, domain, policy_key, result_type, sending_ip, receiving_mx, receiving_ip, reason, count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1)",
    )?
    .execute(row)?;
    Ok(())
}

/// The policy's identity in the tables: SHA-256 over its parts.
fn policy_key(policy_type: &str, strings: &str, mx_hosts: &str) -> String {
    let joined = format!("{policy_type}\0{strings}\0{mx_hosts}");
    digest(&SHA256, joined.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Lines joined by newlines, each without line breaks, cut to
/// `MAX_POLICY_TEXT` at a line's end.
fn bounded_lines(lines: &[String]) -> String {
    let mut joined = String::new();
    for line in lines {
        let line = line.replace(['\r', '\n'], " ");
        if joined.len() + line.len() + 1 > MAX_POLICY_TEXT {
            break;
        }
        if !joined.is_empty() {
            joined.push('\n');
        }
        joined.push_str(&line);
    }
    joined
}

fn lines(joined: &str) -> Vec<String> {
    if joined.is_empty() {
        return Vec::new();
    }
    joined.split('\n').map(str::to_string).collect()
}

/// `text` cut to `MAX_TEXT` bytes at a character boundary.
fn cut(text: &str) -> String {
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}
