//! A throwaway PostgreSQL for the store's tests: Debian's server binaries
//! (`apt-get install postgresql`), a cluster made in a temporary directory
//! and reached by its Unix socket only (no TCP port to collide on),
//! stopped and deleted with the value. Run as root, as CI does, the
//! server runs as the `postgres` user (initdb refuses root).
//!
//! Without the binaries the PostgreSQL tests are skipped with a message,
//! unless `POSTAMT_REQUIRE_POSTGRES` is set (.ci/run sets it), when they
//! fail instead: in CI they must always run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct TestPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// The newest installed server's binaries.
fn binaries() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn is_root() -> bool {
    std::env::var("USER").is_ok_and(|user| user == "root")
        || Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// `program args` as the user that may run PostgreSQL.
fn command(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl TestPostgres {
    /// A running server, or None (with the reason printed) when there is
    /// no PostgreSQL to run and none is required.
    pub fn start() -> Option<TestPostgres> {
        let Some(bin) = binaries() else {
            let why = "no PostgreSQL server in /usr/lib/postgresql (apt-get install postgresql)";
            assert!(std::env::var_os("POSTAMT_REQUIRE_POSTGRES").is_none(), "{why}");
            eprintln!("skipping the PostgreSQL tests: {why}");
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let data = dir.path().join("data");
        let status = command(&bin.join("initdb"))
            .args([
                "--auth=trust",
                "--username=postamt",
                "--encoding=UTF8",
                "--no-instructions",
                "-D",
            ])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .expect("initdb runs");
        assert!(status.success(), "initdb failed");
        // pg_ctl -w returns once the server takes connections.
        let options = format!("-k {} -c listen_addresses= -c fsync=on", dir.path().display());
        let status = command(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.path().join("server.log"))
            .args(["-w", "-t", "30", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(status.success(), "PostgreSQL did not start");
        Some(TestPostgres { bin, dir })
    }

    /// A connection string for a fresh database named `name`.
    pub async fn database(&self, name: &str) -> String {
        let (client, connection) = tokio_postgres::connect(&self.url("postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect to the test server");
        tokio::spawn(connection);
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create a database");
        self.url(name)
    }

    fn url(&self, database: &str) -> String {
        format!("host={} user=postamt dbname={database}", self.dir.path().display())
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let _ = command(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "fast", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}
