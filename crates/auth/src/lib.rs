//! Authentication for postamt: password hashing (argon2id, RFC 9106), the
//! SASL mechanisms the servers offer, and the throttle that slows down
//! password guessing per client network and target account across all
//! protocols. Passwords are never stored or compared in the clear;
//! verifying is deliberately slow: `verify_login_limited` runs it off the
//! async executor, a bounded number at a time. [`login`] is the sequence
//! every protocol runs: look up, reserve with the throttle, verify, record.

#![forbid(unsafe_code)]

pub mod fuzz;
mod login;
mod password;
pub mod sasl;
mod throttle;

pub use login::{LoginOutcome, login};
pub use password::{hash_password, verify_login, verify_login_limited, verify_password};
pub use throttle::{Attempt, LockedOut, Throttle, ThrottleConfig};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the system random generator failed")]
    Random,
}
