//! postamt, the program: the command line, the configuration, and the
//! wiring of store, queue and servers into one running mail system. It is
//! the only crate that knows all the others. `src/main.rs` only calls
//! [`main`]; the library exists so that the fuzz targets in `fuzz/` reach
//! what reads outside input here (the config file: [`fuzz`]).

mod acme;
mod admin;
mod backend;
mod backup;
mod checks;
mod cli;
mod client_records;
mod config;
mod dkim;
mod dns_records;
mod dnsbl;
mod export;
pub mod fuzz;
mod greylist;
mod header_edit;
mod http;
mod imap_settings;
mod import;
mod manpages;
mod node;
mod privileges;
mod quota_settings;
mod reload;
mod rspamd;
mod serve;
mod server_settings;
mod setup;
mod sieve_cli;
mod sieve_settings;
mod signals;
mod spam_learning;
mod store_copy;
mod store_settings;
mod tls_reports;
mod unix_account;
mod web;

use clap::Parser;

/// The whole program: parses the command line and runs what it asks.
pub fn main() -> std::process::ExitCode {
    return_large_allocations_to_the_system();
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("postamt: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("postamt: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Every login verifies an argon2id hash in 19 MiB of fresh memory. glibc
/// raises its mmap threshold after such a block is freed, so later ones
/// come from the heap, where small long-lived allocations (sessions) land
/// in the freed space and keep the heap from shrinking: measured, 1 000
/// idle IMAP sessions took 380 KiB each instead of 30 KiB
/// (bench/idle-memory.sh). A fixed threshold keeps large blocks in mmap,
/// returned to the system when freed.
fn return_large_allocations_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
