//! postamt, the binary: the command line, the configuration, and the wiring
//! of store, queue and servers into one running mail system. It is the only
//! crate that knows all the others.

mod admin;
mod backend;
mod cli;
mod config;
mod serve;

use clap::Parser;

fn main() -> std::process::ExitCode {
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
