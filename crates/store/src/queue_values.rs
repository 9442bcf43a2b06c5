//! The queue's words as SQL values: where a recipient stands, the report
//! owed for it, and the SMTP parameters (`wire::smtp`) its message was
//! sent with. Each is written to and read from its column here and
//! nowhere else; the text stored is the one earlier versions stored.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Where a queue recipient stands (`queue_recipients.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecipientStatus {
    /// To be tried (again).
    Pending,
    Delivered,
    /// Failed for good: permanently refused, expired or bounced by hand.
    Failed,
}

impl RecipientStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RecipientStatus::Pending => "pending",
            RecipientStatus::Delivered => "delivered",
            RecipientStatus::Failed => "failed",
        }
    }

    fn parse(text: &str) -> Option<RecipientStatus> {
        match text {
            "pending" => Some(RecipientStatus::Pending),
            "delivered" => Some(RecipientStatus::Delivered),
            "failed" => Some(RecipientStatus::Failed),
            _ => None,
        }
    }
}

impl std::fmt::Display for RecipientStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The action a delivery status notification reports for a recipient
/// (RFC 3464 §2.3.3); stored in `queue_recipients.report` until sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    Failed,
    /// Still being tried (never stored: delay warnings go out at once).
    Delayed,
    Delivered,
    /// Passed on to a host that does not report itself (RFC 3461 §6.2.1).
    Relayed,
}

impl ReportAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportAction::Failed => "failed",
            ReportAction::Delayed => "delayed",
            ReportAction::Delivered => "delivered",
            ReportAction::Relayed => "relayed",
        }
    }

    fn parse(text: &str) -> Option<ReportAction> {
        match text {
            "failed" => Some(ReportAction::Failed),
            "delayed" => Some(ReportAction::Delayed),
            "delivered" => Some(ReportAction::Delivered),
            "relayed" => Some(ReportAction::Relayed),
            _ => None,
        }
    }
}

impl std::fmt::Display for ReportAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for RecipientStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for RecipientStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        parse_text(value, RecipientStatus::parse)
    }
}

impl ToSql for ReportAction {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for ReportAction {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        parse_text(value, ReportAction::parse)
    }
}

/// A column of `wire::smtp` values (BODY, RET, NOTIFY), read with the
/// parser that reads them from clients.
pub(crate) struct Wire<T>(pub T);

impl FromSql for Wire<wire::smtp::BodyType> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        parse_text(value, wire::smtp::BodyType::parse).map(Wire)
    }
}

impl FromSql for Wire<wire::smtp::DsnReturn> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        parse_text(value, wire::smtp::DsnReturn::parse).map(Wire)
    }
}

impl FromSql for Wire<wire::smtp::Notify> {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        parse_text(value, wire::smtp::Notify::parse).map(Wire)
    }
}

impl<T: std::fmt::Display> ToSql for Wire<T> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.0.to_string().into())
    }
}

fn parse_text<T>(value: ValueRef<'_>, parse: fn(&str) -> Option<T>) -> FromSqlResult<T> {
    let text = value.as_str()?;
    parse(text).ok_or_else(|| FromSqlError::Other(format!("unknown value {text:?}").into()))
}
