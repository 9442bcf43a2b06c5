//! The `postamt` binary; everything it does is in the library.

fn main() -> std::process::ExitCode {
    postamt::main()
}
