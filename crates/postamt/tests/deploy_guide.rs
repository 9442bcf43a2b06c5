//! docs/deploy.md promises that every command in it is one a test runs
//! (issue 19, item 8). This holds the guide to it:
//!
//! - Every command line in a ```sh block of the guide must be run by a
//!   line of a script in contrib/ that ends in `# guide:` (contrib/test-package.sh
//!   installs the package and follows the guide), or be listed in
//!   `NOT_RUN_HERE` with the reason and what runs in its place.
//! - Every marked line runs a command the guide shows (no stale marks).
//! - Every ```toml block of the guide is a config that loads.
//!
//! A guide command matches a marked line when its words appear there in
//! order, side by side; a placeholder (a word with two or more capitals in
//! a row, like QUEUE-ID or postamt_VERSION_amd64.deb) matches a shell
//! expansion (`"$id"`). Words before and after may differ (a pipe into the
//! command, `--password-stdin`, a redirection).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Guide commands that CI's container cannot run, each with why and what
/// test stands in for it.
const NOT_RUN_HERE: &[(&str, &str)] = &[
    (
        "systemctl start postamt",
        "systemd is not PID 1 in CI: contrib/test-package.sh starts the unit's ExecStart as the unit does \
         (user postamt, CAP_NET_BIND_SERVICE only) and `systemd-analyze verify` checks the unit",
    ),
    ("systemctl status postamt", "systemd is not PID 1 in CI (as above)"),
    (
        "systemctl restart postamt",
        "systemd is not PID 1 in CI (as above); tests/acme.rs restarts a server with [tls.acme] against pebble",
    ),
    (
        "postamt dns example.org --check",
        "needs the domain's public DNS: tests/dns_records.rs runs `dns --check` against a DNS server of its own",
    ),
    (
        "apt-get install fail2ban",
        "needs Debian's mirrors: .ci/run installs fail2ban for contrib/test-package.sh",
    ),
    (
        "fail2ban-client reload",
        "needs a running fail2ban: contrib/test-package.sh runs fail2ban-regex with the installed filter on a server's log",
    ),
];

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn guide() -> String {
    std::fs::read_to_string(repository().join("docs/deploy.md")).expect("docs/deploy.md")
}

/// The contents of the guide's fenced blocks of one language.
fn blocks(text: &str, language: &str) -> Vec<String> {
    let opening = format!("```{language}\n");
    text.split(opening.as_str())
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap_or_default().to_string())
        .collect()
}

/// The command lines of the guide's sh blocks (comments and blank lines
/// left out, continued lines joined).
fn guide_commands() -> Vec<String> {
    let mut commands = Vec::new();
    for block in blocks(&guide(), "sh") {
        let mut pending = String::new();
        for line in block.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(continued) = line.strip_suffix('\\') {
                pending.push_str(continued);
                continue;
            }
            pending.push_str(line);
            commands.push(std::mem::take(&mut pending));
        }
    }
    commands
}

/// The code of every line of contrib/*.sh that ends in `# guide:`, with
/// the file and line number it is on.
fn marked_lines() -> Vec<(String, String)> {
    let mut lines = Vec::new();
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(repository().join("contrib"))
        .expect("contrib/")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    for script in scripts {
        let text = std::fs::read_to_string(&script).unwrap();
        for (number, line) in text.lines().enumerate() {
            if let Some(code) = line.trim_end().strip_suffix("# guide:") {
                let place = format!("{}:{}", script.file_name().unwrap().to_string_lossy(), number + 1);
                lines.push((place, code.trim().to_string()));
            }
        }
    }
    lines
}

fn is_placeholder(word: &str) -> bool {
    word.as_bytes()
        .windows(2)
        .any(|pair| pair.iter().all(u8::is_ascii_uppercase))
}

fn runs(code: &str, command: &str) -> bool {
    let code: Vec<&str> = code.split_whitespace().collect();
    let command: Vec<&str> = command.split_whitespace().collect();
    !command.is_empty()
        && code.windows(command.len()).any(|window| {
            window
                .iter()
                .zip(&command)
                .all(|(have, want)| have == want || (is_placeholder(want) && have.contains('$')))
        })
}

#[test]
fn every_command_in_the_guide_is_run_by_a_test() {
    let commands = guide_commands();
    assert!(commands.len() >= 10, "found only {commands:?} in docs/deploy.md");
    let marked = marked_lines();
    let missing: Vec<&String> = commands
        .iter()
        .filter(|command| !NOT_RUN_HERE.iter().any(|(exempt, _)| exempt == command))
        .filter(|command| !marked.iter().any(|(_, code)| runs(code, command)))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/deploy.md shows commands no test runs: {missing:#?}\nRun each in contrib/test-package.sh on a line \
         ending in `# guide:`, or list it in NOT_RUN_HERE with the reason and the test in its place."
    );
    for (exempt, _) in NOT_RUN_HERE {
        assert!(
            commands.iter().any(|command| command == exempt),
            "NOT_RUN_HERE lists {exempt:?}, which docs/deploy.md no longer shows"
        );
    }
}

#[test]
fn every_marked_line_runs_a_command_of_the_guide() {
    let commands = guide_commands();
    for (place, code) in marked_lines() {
        assert!(
            commands.iter().any(|command| runs(&code, command)),
            "{place} is marked `# guide:` but runs no command docs/deploy.md shows: {code}"
        );
    }
}

#[test]
fn every_config_in_the_guide_loads() {
    let blocks = blocks(&guide(), "toml");
    assert!(!blocks.is_empty(), "no toml block in docs/deploy.md");
    for block in blocks {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("postamt.toml");
        std::fs::write(&config, &block).unwrap();
        // A command that loads the config, then finds no store there.
        let output = Command::new(env!("CARGO_BIN_EXE_postamt"))
            .arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["queue", "list"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("there is no store"),
            "this config from docs/deploy.md does not load:\n{block}\n{stderr}"
        );
    }
}

#[test]
fn placeholders_match_shell_expansions_only() {
    assert!(runs(
        r#"postamt queue show "$id" >"$work/show""#,
        "postamt queue show QUEUE-ID"
    ));
    assert!(runs(r#"dpkg -i "$deb""#, "dpkg -i postamt_VERSION_amd64.deb"));
    assert!(runs(
        "echo pw | postamt user add alice@example.org --password-stdin",
        "postamt user add alice@example.org"
    ));
    assert!(!runs("postamt queue show 1234", "postamt queue show QUEUE-ID"));
    assert!(!runs("postamt queue list", "postamt queue show QUEUE-ID"));
    assert!(!runs("postamt dns example.org", "postamt dns example.org --check"));
}
