//! POP3 commands, grouped by the state they belong to.

mod authorization;
mod capa;
mod maildrop;
mod retrieve;
