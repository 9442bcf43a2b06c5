//! Execs per second of each session target over its seed corpus:
//! `cargo run --release -p session-fuzz --example speed [ROUNDS]`.
//! Prints the figures; asserts nothing about time.

use std::path::Path;
use std::time::Instant;

/// A target's name and body.
type Target = (&'static str, fn(&[u8]));

fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(50);
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let targets: [Target; 3] = [
        ("smtp_session", session_fuzz::smtp_session),
        ("pop3_session", session_fuzz::pop3_session),
        ("imap_session", session_fuzz::imap_session),
    ];
    for (name, run) in targets {
        let mut inputs = Vec::new();
        let mut names = Vec::new();
        for entry in std::fs::read_dir(corpus.join(name)).expect("the corpus") {
            let path = entry.expect("an entry").path();
            inputs.push(std::fs::read(&path).expect("a file"));
            names.push(
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
        // The first exec pays for the runtime and the store.
        run(&inputs[0]);
        let start = Instant::now();
        let mut each = vec![0f64; inputs.len()];
        for _ in 0..rounds {
            for (i, input) in inputs.iter().enumerate() {
                let one = Instant::now();
                run(input);
                each[i] += one.elapsed().as_secs_f64();
            }
        }
        let slowest = (0..inputs.len())
            .max_by(|&a, &b| each[a].total_cmp(&each[b]))
            .unwrap_or(0);
        let execs = rounds * inputs.len();
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{name}: {execs} execs in {seconds:.2} s, {:.0} execs/s; slowest seed {} at {:.2} ms",
            execs as f64 / seconds,
            names[slowest],
            each[slowest] * 1000.0 / rounds as f64
        );
    }
}
