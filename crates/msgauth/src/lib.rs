//! Message authentication: whether mail that arrives is what it claims to
//! be (SPF, RFC 7208; DKIM, RFC 6376 and RFC 8463; DMARC, RFC 7489; ARC,
//! RFC 8617; iprev), written up as one Authentication-Results header (RFC
//! 8601), and proof for mail that leaves (DKIM signatures, ARC seals, SRS
//! for forwarded mail). The algorithms are the `mail-auth` crate's; this
//! crate decides what to check, with which DNS, within which time, and
//! what the results mean for postamt.

#![forbid(unsafe_code)]

pub mod arc_seal;
mod arc_trust;
mod cache;
pub mod fuzz;
pub mod keys;
mod policy;
pub mod records;
pub mod results;
pub mod results_read;
pub mod sign;
mod verify;

pub use arc_trust::Override;
pub use policy::{Action, Settings, Verdict};
pub use verify::{Client, MessageChecks, SenderChecks, Verifier};
