//! The queue's words as SQL values: where a recipient stands, the report
//! owed for it, and the SMTP parameters (`wire::smtp`) its message was
//! sent with. Each is written to and read from its column here and
//! nowhere else; the text stored is the one earlier versions stored.

use crate::sql::{Cell, Column, Param, Value, parse_text};

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

impl Value for RecipientStatus {
    fn param(&self) -> Param<'_> {
        Param::Text(self.as_str())
    }
}

impl Column for RecipientStatus {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        parse_text(cell, RecipientStatus::parse)
    }
}

impl Value for ReportAction {
    fn param(&self) -> Param<'_> {
        Param::Text(self.as_str())
    }
}

impl Column for ReportAction {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        parse_text(cell, ReportAction::parse)
    }
}

/// A column of `wire::smtp` values (BODY, RET, NOTIFY), read with the
/// parser that reads them from clients and written as they are sent.
pub(crate) struct Wire<T>(pub T);

impl Column for Wire<wire::smtp::BodyType> {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        parse_text(cell, wire::smtp::BodyType::parse).map(Wire)
    }
}

impl Column for Wire<wire::smtp::DsnReturn> {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        parse_text(cell, wire::smtp::DsnReturn::parse).map(Wire)
    }
}

impl Column for Wire<wire::smtp::Notify> {
    fn read(cell: Cell<'_>) -> Result<Self, String> {
        parse_text(cell, wire::smtp::Notify::parse).map(Wire)
    }
}
