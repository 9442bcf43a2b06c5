//! Prints the transcript of one input: `cargo run -p session-fuzz
//! --example show -- smtp|pop3|imap FILE` (a corpus file or a crash).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, target, file] = args.as_slice() else {
        eprintln!("usage: show smtp|pop3|imap FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    let session = match target.as_str() {
        "smtp" => session_fuzz::smtp::session,
        "pop3" => session_fuzz::pop3::session,
        "imap" => session_fuzz::imap::session,
        _ => panic!("unknown target {target}"),
    };
    match session(&data) {
        Ok(transcript) => {
            for step in &transcript.steps {
                println!("C: {:?}", String::from_utf8_lossy(&step.sent));
                for line in String::from_utf8_lossy(&step.received).split_inclusive('\n') {
                    println!("S: {line:?}");
                }
            }
            let size = transcript.size();
            println!(
                "peak heap: {} bytes, transcript {size} bytes",
                session_fuzz::driver::last_peak()
            );
        }
        Err(violation) => println!("violation: {violation}"),
    }
}
