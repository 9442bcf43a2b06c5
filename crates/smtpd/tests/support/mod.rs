//! Shared by the smtpd integration tests: the in-memory backend and the
//! dialog-file runner.

pub mod backend;
pub mod dialog;
