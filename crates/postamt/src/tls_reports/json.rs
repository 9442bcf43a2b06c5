//! The aggregate report's JSON (RFC 8460 §4.3, §4.4), written and read
//! with the RFC's field names. Reading is lenient where reporters differ
//! (absent optional fields, `mx-host` as one string) and strict where the
//! numbers are.

use serde::{Deserialize, Deserializer, Serialize};
use store::TlsPolicyCounts;

/// One report: one reporting organization, one day, one policy domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Report {
    #[serde(default)]
    pub organization_name: String,
    pub date_range: DateRange,
    #[serde(default)]
    pub contact_info: String,
    #[serde(default)]
    pub report_id: String,
    pub policies: Vec<PolicyResult>,
}

/// §4.3: RFC 3339 date-times, UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct DateRange {
    pub start_datetime: String,
    pub end_datetime: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct PolicyResult {
    pub policy: Policy,
    pub summary: Summary,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failure_details: Vec<FailureDetail>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Policy {
    /// "sts", "tlsa" or "no-policy-found".
    pub policy_type: String,
    /// Absent for "no-policy-found" (§4.3: there is no policy to quote).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub policy_string: Vec<String>,
    pub policy_domain: String,
    /// The MTA-STS policy's `mx` patterns; absent for the other types.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "one_or_many")]
    pub mx_host: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Summary {
    pub total_successful_session_count: u64,
    pub total_failure_session_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct FailureDetail {
    pub result_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sending_mta_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_mx_helo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiving_ip: Option<String>,
    pub failed_session_count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_information: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_reason_code: Option<String>,
}

/// A string or an array of strings, as an array.
fn one_or_many<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(deserializer)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

/// Who sends the report, for its header fields.
pub struct Sender<'a> {
    pub organization: &'a str,
    pub contact: &'a str,
}

impl Report {
    /// The report for `domain` of the UTC day starting at `day`, from the
    /// store's counts.
    pub fn from_counts(
        sender: &Sender<'_>,
        domain: &str,
        day: i64,
        report_id: String,
        counts: &[TlsPolicyCounts],
    ) -> Report {
        let policies = counts
            .iter()
            .map(|c| PolicyResult {
                policy: Policy {
                    policy_type: c.policy_type.clone(),
                    policy_string: c.policy_strings.clone(),
                    policy_domain: domain.to_string(),
                    mx_host: c.mx_hosts.clone(),
                },
                summary: Summary {
                    total_successful_session_count: c.successes,
                    total_failure_session_count: c.failures,
                },
                failure_details: c
                    .details
                    .iter()
                    .map(|(f, count)| {
                        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
                        FailureDetail {
                            result_type: f.result_type.clone(),
                            sending_mta_ip: some(&f.sending_ip),
                            receiving_mx_hostname: some(&f.receiving_mx),
                            receiving_mx_helo: None,
                            receiving_ip: some(&f.receiving_ip),
                            failed_session_count: *count,
                            additional_information: None,
                            failure_reason_code: some(&f.reason),
                        }
                    })
                    .collect(),
            })
            .collect();
        Report {
            organization_name: sender.organization.to_string(),
            date_range: DateRange {
                start_datetime: rfc3339(day),
                end_datetime: rfc3339(day + 86_400 - 1),
            },
            contact_info: sender.contact.to_string(),
            report_id,
            policies,
        }
    }
}

/// Unix seconds as an RFC 3339 date-time in UTC (`2026-12-01T00:00:00Z`).
pub fn rfc3339(time: i64) -> String {
    let (year, month, day) = wire::date::civil_from_days(time.div_euclid(86_400));
    let seconds = time.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// `YYYY-MM-DD` of the UTC day starting at `day`.
pub fn date(day: i64) -> String {
    let (year, month, day) = wire::date::civil_from_days(day.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The start of the UTC day `YYYY-MM-DD` names.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let year: i64 = parts.next()?.parse().ok()?;
    let month: i64 = parts.next()?.parse().ok()?;
    let day: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || text.len() != 10 {
        return None;
    }
    let days = wire::date::days_from_civil(year, month, day);
    // 31 February and the like come back as another date.
    (wire::date::civil_from_days(days) == (year, month, day)).then_some(days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_days() {
        let day = parse_date("2026-12-01").unwrap();
        assert_eq!(rfc3339(day), "2026-12-01T00:00:00Z");
        assert_eq!(rfc3339(day + 86_399), "2026-12-01T23:59:59Z");
        assert_eq!(date(day), "2026-12-01");
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(parse_date("2026-1-01"), None);
        assert_eq!(parse_date("yesterday"), None);
    }

    #[test]
    fn reading_takes_one_mx_host_as_a_list() {
        let report: Report = serde_json::from_str(
            r#"{"organization-name":"o","date-range":{"start-datetime":"a","end-datetime":"b"},
                "report-id":"r","policies":[{"policy":{"policy-type":"sts","policy-domain":"d",
                "mx-host":"*.d","policy-string":["version: STSv1"]},
                "summary":{"total-successful-session-count":1,"total-failure-session-count":0}}]}"#,
        )
        .unwrap();
        assert_eq!(report.policies[0].policy.mx_host, ["*.d"]);
        assert!(report.policies[0].failure_details.is_empty());
    }
}
