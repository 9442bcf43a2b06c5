//! One file per SMTP command (or group of closely related commands).

mod data;
mod ehlo;
mod mail;
mod rcpt;
mod starttls;
