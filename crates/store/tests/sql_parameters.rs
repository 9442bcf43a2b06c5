//! SQLite numbers `$N` parameters by their first appearance in a
//! statement, not by N (`$N` is a named parameter there), while rusqlite
//! binds tuples by position: `SET a = $2 WHERE b = $1` binds the values
//! swapped, silently. Every statement in the store must therefore name its
//! `$N` parameters in increasing order from `$1` (or use `?N`, which
//! SQLite numbers by N). This test reads the sources and holds them to it.

#[test]
fn dollar_parameters_appear_in_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            continue;
        }
        let source = std::fs::read_to_string(&path).unwrap();
        for statement in source.split('"').skip(1).step_by(2) {
            let mut order: Vec<u32> = Vec::new();
            let mut rest = statement;
            while let Some(at) = rest.find('$') {
                rest = &rest[at + 1..];
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(n) = digits.parse::<u32>()
                    && !order.contains(&n)
                {
                    order.push(n);
                }
            }
            // A statement continued from a shared prefix may start at $2.
            let in_order = order.windows(2).all(|pair| pair[0] < pair[1]);
            if !in_order {
                wrong.push(format!("{}: {statement}", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "parameters out of order:\n{}", wrong.join("\n"));
}
