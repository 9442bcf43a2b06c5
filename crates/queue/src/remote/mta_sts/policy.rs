//! The policy a domain serves (RFC 8461 §3.2) and which MX hosts it lets
//! a sender use (§4.1).

/// §3.2: a policy is cached for at most a year.
pub const MAX_AGE_LIMIT: u64 = 31_557_600;

/// The most `mx` patterns a policy may have. A policy names the few hosts
/// its domain's MX records list (§3.2 sets no limit); a hundred leaves
/// room for any real one and bounds what each remembered policy holds in
/// memory and what matching an MX host against it costs.
pub const MAX_MX_PATTERNS: usize = 100;

/// What a policy asks of senders (§5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Deliver only to matching MX hosts over verified TLS.
    Enforce,
    /// Deliver as without a policy, but report what would have failed.
    Testing,
    /// The domain withdrew its policy.
    None,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Testing => "testing",
            Mode::None => "none",
        }
    }
}

/// A parsed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub mode: Mode,
    /// MX patterns, lower case, without a final dot: host names, or
    /// `*.` and a name for any host one label below it.
    pub mx: Vec<String>,
    /// Seconds the policy may be cached, at most `MAX_AGE_LIMIT`.
    pub max_age: u64,
    /// The policy's lines as served, without their line ends and blank
    /// lines: what a TLS report gives as its policy-string (RFC 8460
    /// §4.4), unknown keys and all.
    pub lines: Vec<String>,
}

/// Why a policy text is not a policy (TLS-RPT's `sts-policy-invalid`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("line {0} of the policy is not `key: value`")]
    Syntax(usize),
    #[error("the policy has no {0}")]
    Missing(&'static str),
    #[error("the policy's version is {0:?}, not STSv1")]
    Version(String),
    #[error("the policy's mode {0:?} is none of enforce, testing, none")]
    Mode(String),
    #[error("the policy's max_age {0:?} is not a number of seconds")]
    MaxAge(String),
    #[error("the policy's mx {0:?} is not a host name pattern")]
    Mx(String),
    #[error("the policy has more than {MAX_MX_PATTERNS} mx patterns")]
    TooManyMx,
}

impl Policy {
    /// Parses a policy body (§3.2): `key: value` lines ending in LF or
    /// CRLF; version, mode and max_age required, mx once or more (unless
    /// the mode is none); unknown keys ignored (§3.2 lets policies grow).
    /// A key given twice counts the first time (but mx, which adds up):
    /// §3.2 says nothing of repetition, and dropping the policy for it
    /// would leave the domain with no protection at all.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        let (mut version, mut mode, mut max_age) = (None, None, None);
        let mut mx = Vec::new();
        let mut lines = Vec::new();
        for (number, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim_matches([' ', '\t']).is_empty() {
                continue;
            }
            lines.push(line.to_string());
            let (key, value) = line.split_once(':').ok_or(PolicyError::Syntax(number + 1))?;
            if !valid_key(key) {
                return Err(PolicyError::Syntax(number + 1));
            }
            // §3.2: `sts-policy-field-delim = ":" *WSP`; the ABNF lets
            // white space end a line too.
            let value = value.trim_matches([' ', '\t']);
            match key {
                "version" => {
                    version.get_or_insert(value);
                }
                "mode" => {
                    mode.get_or_insert(value);
                }
                "max_age" => {
                    max_age.get_or_insert(value);
                }
                "mx" if mx.len() == MAX_MX_PATTERNS => return Err(PolicyError::TooManyMx),
                "mx" => mx.push(mx_pattern(value).ok_or_else(|| PolicyError::Mx(value.to_string()))?),
                _ => {}
            }
        }
        match version {
            None => return Err(PolicyError::Missing("version")),
            Some("STSv1") => {}
            Some(other) => return Err(PolicyError::Version(other.to_string())),
        }
        let mode = match mode.ok_or(PolicyError::Missing("mode"))? {
            "enforce" => Mode::Enforce,
            "testing" => Mode::Testing,
            "none" => Mode::None,
            other => return Err(PolicyError::Mode(other.to_string())),
        };
        let max_age = max_age.ok_or(PolicyError::Missing("max_age"))?;
        // §3.2: `1*10DIGIT`, at most 31557600; a longer life is cut to it.
        if max_age.is_empty() || max_age.len() > 10 || !max_age.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PolicyError::MaxAge(max_age.to_string()));
        }
        let max_age = max_age
            .parse::<u64>()
            .map_err(|_| PolicyError::MaxAge(max_age.to_string()))?;
        if mx.is_empty() && mode != Mode::None {
            return Err(PolicyError::Missing("mx"));
        }
        Ok(Policy {
            mode,
            mx,
            max_age: max_age.min(MAX_AGE_LIMIT),
            lines,
        })
    }

    /// Whether `host`, an MX host name, is one this policy allows.
    pub fn allows(&self, host: &str) -> bool {
        self.mx.iter().any(|pattern| mx_matches(pattern, host))
    }
}

/// §3.2: `sts-policy-ext-name = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")`
/// (the four known keys fit it too).
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 32
        && key.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
}

/// An mx value as a pattern: §3.2 `sts-policy-mx-value = ["*."] sts-policy-domain`,
/// a wildcard only as the whole left-most label (§4.1).
fn mx_pattern(value: &str) -> Option<String> {
    let pattern = value.trim_end_matches('.').to_ascii_lowercase();
    let name = pattern.strip_prefix("*.").unwrap_or(&pattern);
    let labels_ok = !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        });
    labels_ok.then_some(pattern)
}

/// §4.1: a host matches a pattern naming it, or a `*.` pattern when the
/// host is exactly one label more than the rest of the pattern (so
/// `*.example.com` matches `mx.example.com` but neither `example.com` nor
/// `a.b.example.com`). Names compare without case and final dots.
pub fn mx_matches(pattern: &str, host: &str) -> bool {
    let pattern = pattern.trim_end_matches('.');
    let host = host.trim_end_matches('.');
    match pattern.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(first, rest)| !first.is_empty() && rest.eq_ignore_ascii_case(parent)),
        None => host.eq_ignore_ascii_case(pattern),
    }
}
