//! Authentication for postamt: password hashing (argon2id, RFC 9106) and
//! the SASL mechanisms the servers offer. Passwords are never stored or
//! compared in the clear; verifying is deliberately slow, so callers run it
//! off the async executor.

mod password;
pub mod sasl;

pub use password::{hash_password, verify_against_nothing, verify_password};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the system random generator failed")]
    Random,
}
