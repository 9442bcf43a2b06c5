//! One file per SMTP command (or group of closely related commands).

mod auth;
mod data;
mod ehlo;
mod mail;
mod rcpt;
mod starttls;
