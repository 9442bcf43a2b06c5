//! A crude stable-Rust fuzzer for a quick look before afl or libFuzzer:
//! mutates the seed corpus at random (byte changes, cuts, splices,
//! repeats) and runs each mutant, saving those that panic.
//! `cargo run --release -p session-fuzz --example mutate -- TARGET N [OUT]`.

use std::path::Path;

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b"\xff",
    b" ",
    b"{5}\r\n",
    b"{3+}\r\n",
    b".\r\n",
    b"\r\n.\r\n",
    b"BDAT 3 LAST\r\n",
    b"DATA\r\n",
    b"* ",
    b"a1 ",
    b"IDLE\r\n",
    b"DONE\r\n",
    b"NOOP\r\n",
    b"QUIT\r\n",
    b"LOGOUT\r\n",
    b"COMPRESS DEFLATE\r\n",
    b"0",
    b"4294967296",
    b"-1",
    b"\"",
    b"(",
    b")",
    b"~{2}\r\n",
    b"*",
    b"=\r\n",
    b"+",
    b"RSET\r\n",
    b"a9 UID ",
    b"a8 NOTIFY SET (selected (MessageNew (UID)) (MessageExpunge FlagChange))\r\n",
    b"a7 ENABLE QRESYNC UTF8=ACCEPT\r\n",
    b"a6 UID EXPUNGE 1:*\r\n",
    b"a5 APPEND INBOX {3}\r\n",
    b"a4 AUTHENTICATE PLAIN\r\n",
    b"a3 SORT (SUBJECT) UTF-8 ALL\r\n",
    b"a2 THREAD REFERENCES UTF-8 ALL\r\n",
    b"a1 LIST \"\" *\r\n",
    b"AUTH PLAIN\r\n",
    b"MAIL FROM:<alice@example.org>\r\n",
    b"RCPT TO:<alice@example.org>\r\n",
    b"BDAT 0 LAST\r\n",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = at.min(data.len() - 1);
                data[i] = rng.next() as u8;
            }
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            2 if at < data.len() => {
                let end = (at + rng.below(32)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len());
                let to = (from + rng.below(64)).min(other.len());
                data.splice(at..at, other[from..to].iter().copied());
            }
            4 if at < data.len() => {
                let end = (at + rng.below(64)).min(data.len());
                let piece = data[at..end].repeat(1 + rng.below(8));
                data.splice(at..at, piece);
            }
            _ => data.insert(at.min(data.len()), b'\xff'),
        }
    }
    data
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map_or("smtp_session", String::as_str);
    let n: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let out = args.get(3).map_or("/tmp/session-fuzz-crashes", String::as_str);
    let run: fn(&[u8]) = match target {
        "smtp_session" => session_fuzz::smtp_session,
        "pop3_session" => session_fuzz::pop3_session,
        "imap_session" => session_fuzz::imap_session,
        _ => panic!("unknown target {target}"),
    };
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let seeds: Vec<Vec<u8>> = std::fs::read_dir(corpus)
        .expect("the corpus")
        .map(|e| std::fs::read(e.expect("an entry").path()).expect("a file"))
        .collect();
    let seed = std::env::var("SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let mut rng = Rng(seed);
    std::fs::create_dir_all(out).expect("the output directory");
    let mut crashes = 0;
    for i in 0..n {
        let data = mutate(&mut rng, &seeds);
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            crashes += 1;
            std::fs::write(Path::new(out).join(format!("{target}-{i}")), &data).expect("write");
        }
    }
    println!("{target}: {n} mutants, {crashes} panics (in {out})");
}
