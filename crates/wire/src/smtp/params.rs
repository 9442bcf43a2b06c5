//! The values of the ESMTP parameters that describe a message and ask for
//! reports: BODY (RFC 6152, RFC 3030), RET and NOTIFY (RFC 3461). They are
//! read here from the text a client sends, and written back here when the
//! message is relayed or stored, so every crate shares one spelling.

use std::fmt;

/// The body type declared with BODY=.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyType {
    #[default]
    SevenBit,
    EightBitMime,
    /// Only with BDAT (RFC 3030 §3).
    BinaryMime,
}

impl BodyType {
    /// The value as a client writes it, in any case.
    pub fn parse(value: &str) -> Option<BodyType> {
        match value.to_ascii_uppercase().as_str() {
            "7BIT" => Some(BodyType::SevenBit),
            "8BITMIME" => Some(BodyType::EightBitMime),
            "BINARYMIME" => Some(BodyType::BinaryMime),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BodyType::SevenBit => "7BIT",
            BodyType::EightBitMime => "8BITMIME",
            BodyType::BinaryMime => "BINARYMIME",
        }
    }
}

impl fmt::Display for BodyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// DSN RET (RFC 3461 §4.3): what a failure report should return of the
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnReturn {
    Full,
    Headers,
}

impl DsnReturn {
    /// The value as a client writes it, in any case.
    pub fn parse(value: &str) -> Option<DsnReturn> {
        match value.to_ascii_uppercase().as_str() {
            "FULL" => Some(DsnReturn::Full),
            "HDRS" => Some(DsnReturn::Headers),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DsnReturn::Full => "FULL",
            DsnReturn::Headers => "HDRS",
        }
    }
}

impl fmt::Display for DsnReturn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event a sender can ask to hear of with NOTIFY (RFC 3461 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DsnEvent {
    Success,
    Failure,
    Delay,
}

/// DSN NOTIFY (RFC 3461 §4.1): NEVER, or the events to report. The empty
/// set is NEVER.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notify {
    pub success: bool,
    pub failure: bool,
    pub delay: bool,
}

impl Notify {
    pub const NEVER: Notify = Notify {
        success: false,
        failure: false,
        delay: false,
    };

    /// The value as a client writes it: `NEVER` alone (RFC 3461 §4.1), or
    /// a comma-separated list of SUCCESS, FAILURE and DELAY, in any case.
    pub fn parse(value: &str) -> Option<Notify> {
        let items: Vec<String> = value.split(',').map(str::to_ascii_uppercase).collect();
        if items == ["NEVER"] {
            return Some(Notify::NEVER);
        }
        let mut notify = Notify::NEVER;
        for item in items {
            match item.as_str() {
                "SUCCESS" => notify.success = true,
                "FAILURE" => notify.failure = true,
                "DELAY" => notify.delay = true,
                _ => return None,
            }
        }
        Some(notify)
    }

    /// Whether the sender asked to hear of `event`.
    pub fn includes(self, event: DsnEvent) -> bool {
        match event {
            DsnEvent::Success => self.success,
            DsnEvent::Failure => self.failure,
            DsnEvent::Delay => self.delay,
        }
    }
}

impl fmt::Display for Notify {
    /// `NEVER`, or the events in the order RFC 3461 §4.1 lists them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let items: Vec<&str> = [
            (self.success, "SUCCESS"),
            (self.failure, "FAILURE"),
            (self.delay, "DELAY"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if items.is_empty() {
            f.write_str("NEVER")
        } else {
            f.write_str(&items.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_in_any_case_and_written_canonically() {
        assert_eq!(BodyType::parse("8bitmime"), Some(BodyType::EightBitMime));
        assert_eq!(BodyType::parse("9BIT"), None);
        assert_eq!(DsnReturn::parse("hdrs").map(DsnReturn::as_str), Some("HDRS"));
        assert_eq!(DsnReturn::parse("ALL"), None);
        let notify = Notify::parse("delay,success").unwrap();
        assert_eq!(notify.to_string(), "SUCCESS,DELAY");
        assert!(notify.includes(DsnEvent::Delay) && !notify.includes(DsnEvent::Failure));
        assert_eq!(Notify::parse("never"), Some(Notify::NEVER));
        assert_eq!(Notify::NEVER.to_string(), "NEVER");
    }

    #[test]
    fn never_stands_alone() {
        for bad in ["NEVER,SUCCESS", "SUCCESS,NEVER", "SOMETIMES", "", "SUCCESS,"] {
            assert_eq!(Notify::parse(bad), None, "{bad}");
        }
    }
}
