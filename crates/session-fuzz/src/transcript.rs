//! What one session said and heard, step by step, and the checkers'
//! common vocabulary.
//!
//! Step 0 is the greeting (nothing sent); step `i` is the `i`th client
//! chunk and what the server said until it was idle again; once the
//! client has closed, a last step holds what the server said until it
//! closed too. The checkers read the client's bytes and the server's
//! bytes each as one stream and use the steps only for causality: a reply
//! received in step `i` can only answer what the client sent in steps up
//! to `i`. A reply that comes a step late (see `pipe` on when that can
//! happen) still passes, so the checks do not depend on timing.

/// One client write and what the server said after it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
}

/// A whole session, or the part of it seen so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    pub steps: Vec<Step>,
    /// The client closed and the server then closed too: nothing more
    /// will come, so what is missing now is missing for good.
    pub finished: bool,
}

/// A broken invariant, said so that the fuzzer's crash tells what broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation(pub String);

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A violation with its text.
pub fn violation(text: impl Into<String>) -> Violation {
    Violation(text.into())
}

impl Transcript {
    /// A transcript from steps given as text, for tests.
    pub fn of(steps: &[(&str, &str)], finished: bool) -> Transcript {
        Transcript {
            steps: steps
                .iter()
                .map(|(sent, received)| Step {
                    sent: sent.as_bytes().to_vec(),
                    received: received.as_bytes().to_vec(),
                })
                .collect(),
            finished,
        }
    }

    /// Every byte the client sent.
    pub fn client(&self) -> Vec<u8> {
        self.steps.iter().flat_map(|s| s.sent.iter().copied()).collect()
    }

    /// Every byte the server sent.
    pub fn server(&self) -> Vec<u8> {
        self.steps.iter().flat_map(|s| s.received.iter().copied()).collect()
    }

    /// The step in which the client's byte at `offset` went out.
    pub fn client_step(&self, offset: usize) -> usize {
        step_of(self.steps.iter().map(|s| s.sent.len()), offset)
    }

    /// The step in which the server's byte at `offset` arrived.
    pub fn server_step(&self, offset: usize) -> usize {
        step_of(self.steps.iter().map(|s| s.received.len()), offset)
    }

    /// Bytes in both directions, for the memory bound.
    pub fn size(&self) -> usize {
        self.steps.iter().map(|s| s.sent.len() + s.received.len()).sum()
    }
}

fn step_of(lengths: impl Iterator<Item = usize>, offset: usize) -> usize {
    let mut end = 0;
    let mut last = 0;
    for (i, len) in lengths.enumerate() {
        end += len;
        last = i;
        if offset < end {
            return i;
        }
    }
    last
}

/// One server line (without its CRLF) and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub text: Vec<u8>,
    /// The step in which its last byte arrived.
    pub step: usize,
}

impl Line {
    pub fn shown(&self) -> String {
        String::from_utf8_lossy(&self.text).chars().take(120).collect()
    }
}

/// The server's output as CRLF-ended lines. A line without CRLF at the
/// end is left out while the session goes on, and is a violation once it
/// has ended; a bare LF inside is a violation always (every protocol here
/// ends lines with CRLF).
pub fn server_lines(t: &Transcript) -> Result<Vec<Line>, Violation> {
    let server = t.server();
    let mut lines = Vec::new();
    let mut start = 0;
    while let Some(lf) = server[start..].iter().position(|&b| b == b'\n') {
        let end = start + lf;
        if end == start || server[end - 1] != b'\r' {
            return Err(violation(format!(
                "server line without CR before LF: {:?}",
                String::from_utf8_lossy(&server[start..=end])
            )));
        }
        lines.push(Line {
            text: server[start..end - 1].to_vec(),
            step: t.server_step(end),
        });
        start = end + 1;
    }
    if t.finished && start < server.len() {
        return Err(violation(format!(
            "the server ended with a line without CRLF: {:?}",
            String::from_utf8_lossy(&server[start..])
        )));
    }
    Ok(lines)
}

/// Checks the session's peak heap use against its bound.
pub fn check_memory(peak: usize, bound: usize) -> Result<(), Violation> {
    if peak > bound {
        return Err(violation(format!(
            "the session held {peak} bytes at once, more than its limits allow ({bound})"
        )));
    }
    Ok(())
}
