//! docs/deploy.md promises that every command in it is one a test runs
//! (issue 19, item 8). This holds the guide to it:
//!
//! - Every command line in a ```sh block of the guide, and every inline
//!   code span in its prose and tables that starts with the name of a
//!   program (`PROGRAMS`, like `systemctl reload postamt`), must be run by
//!   a line of a script in contrib/ that ends in `# guide:`
//!   (contrib/test-package.sh installs the package and follows the guide),
//!   or be listed in `NOT_RUN_HERE` with the reason and what runs in its
//!   place.
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
        "systemctl stop postamt",
        "systemd is not PID 1 in CI: contrib/test-package.sh sends the server SIGTERM, as the unit's stop does, \
         and tests/lifecycle.rs tests the graceful stop",
    ),
    (
        "systemctl reload postamt",
        "systemd is not PID 1 in CI: the unit's ExecReload sends SIGHUP, which \
         tests/lifecycle.rs sighup_applies_a_new_limit_and_survives_a_broken_file sends",
    ),
    (
        "journalctl -u postamt",
        "systemd is not PID 1 in CI, so there is no journal: contrib/test-package.sh reads the server's \
         standard error, which is what the unit sends to the journal",
    ),
    (
        "fail2ban-regex systemd-journal postamt",
        "there is no journal in CI (as above): tests/fail2ban.rs and contrib/test-package.sh run \
         fail2ban-regex with the filter on a real server's failed logins in the shape the journal gives them",
    ),
    (
        "apt-get install -f",
        "needs Debian's mirrors: .ci/run installs adduser, the package's dependency, before contrib/test-package.sh",
    ),
    (
        "postamt import imap|maildir|mbox",
        "the guide only points to docs/backup.md for it: tests/import_export.rs imports Dovecot's Maildir \
         and mbox and a whole account over IMAP",
    ),
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

/// The programs whose name at the start of an inline code span makes the
/// span a command the guide tells its reader to run (add any program the
/// guide comes to name).
const PROGRAMS: &[&str] = &[
    "postamt",
    "systemctl",
    "journalctl",
    "dpkg",
    "apt-get",
    "fail2ban-regex",
    "fail2ban-client",
    "man",
    "curl",
    "cp",
    "mv",
    "chown",
];

/// The commands the guide shows: its sh blocks' lines and its inline
/// commands.
fn guide_commands() -> Vec<String> {
    let text = guide();
    let mut commands = block_commands(&text);
    for command in inline_commands(&text) {
        if !commands.contains(&command) {
            commands.push(command);
        }
    }
    commands
}

/// The inline code spans outside fenced blocks that start with one of
/// `PROGRAMS`, with a span broken over lines joined by a space.
fn inline_commands(text: &str) -> Vec<String> {
    let prose: String = text.split("```").step_by(2).collect::<Vec<_>>().join("\n");
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|span| span.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|span| {
            span.split(' ')
                .next()
                .is_some_and(|program| PROGRAMS.contains(&program))
        })
        .collect()
}

/// The command lines of the sh blocks in `text` (comments and blank lines
/// left out, continued lines joined).
fn block_commands(text: &str) -> Vec<String> {
    let mut commands = Vec::new();
    for block in blocks(text, "sh") {
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

#[test]
fn inline_commands_are_code_spans_that_start_with_a_program() {
    let text = "Run `systemctl reload\npostamt` after `[tls] cert` changes; see `man postamt`.\n\
                ```sh\npostamt queue list\n```\nThe `queue list` output, `postamt_VERSION_amd64.deb`.\n";
    assert_eq!(inline_commands(text), ["systemctl reload postamt", "man postamt"]);
    assert_eq!(block_commands(text), ["postamt queue list"]);
}
