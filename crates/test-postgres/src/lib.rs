//! A throwaway PostgreSQL for the tests: Debian's server binaries
//! (`apt-get install postgresql`), one cluster per test process, made in a
//! temporary directory and reached by its Unix socket, and a fresh
//! database for each test that asks. It also listens on loopback with
//! TLS, under a certificate from a CA made for it (`tls_url`), for the
//! tests of the store's TLS; the port is one the system had free. Run as
//! root, as CI does, the server runs as the `postgres` user (initdb
//! refuses root).
//!
//! A test process has no end hook for statics, so a watchdog process
//! (started with the server) stops the server and deletes its directory
//! once the test process is gone, however it ended.
//!
//! Without the binaries the PostgreSQL tests are skipped with a message,
//! unless `POSTAMT_REQUIRE_POSTGRES` is set (.ci/run sets it), when they
//! fail instead: in CI they must always run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The running test server.
pub struct TestPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
}

/// The server of this test process, started on first use; None (with the
/// reason printed) when there is no PostgreSQL to run and none is required.
pub fn server() -> Option<&'static TestPostgres> {
    static SERVER: OnceLock<Option<TestPostgres>> = OnceLock::new();
    SERVER.get_or_init(TestPostgres::start).as_ref()
}

/// A connection string for a database of its own on this process's
/// server, or None as [`server`] says.
pub fn fresh_database() -> Option<String> {
    Some(server()?.database())
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
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// `program` as the user that may run PostgreSQL.
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
    fn start() -> Option<TestPostgres> {
        let Some(bin) = binaries() else {
            let why = "no PostgreSQL server in /usr/lib/postgresql (apt-get install postgresql)";
            assert!(std::env::var_os("POSTAMT_REQUIRE_POSTGRES").is_none(), "{why}");
            eprintln!("skipping the PostgreSQL tests: {why}");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("postamt-pg-")
            .tempdir()
            .expect("temporary directory")
            .keep();
        if is_root() {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir)
                .status()
                .expect("chown");
            assert!(status.success());
        }
        let data = dir.join("data");
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
        make_certificates(&dir);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        // Many tests at once, each with a few nodes and pools.
        let options = format!(
            "-k {dir} -p {port} -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=400 \
             -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key",
            dir = dir.display()
        );
        let status = command(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(dir.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .stdout(Stdio::null())
            .status()
            .expect("pg_ctl runs");
        assert!(
            status.success(),
            "PostgreSQL did not start: see {}",
            dir.join("server.log").display()
        );
        let server = TestPostgres { bin, dir, port };
        server.watch(std::process::id());
        Some(server)
    }

    /// Starts the process that stops the server once `pid` is gone. It is
    /// never waited for: it must outlive this process, whose end it waits
    /// for, and init takes it over then.
    #[allow(clippy::zombie_processes)]
    fn watch(&self, pid: u32) {
        let pg_ctl = self.bin.join("pg_ctl");
        let stop = if is_root() {
            format!(
                "runuser -u postgres -- {} -D {}/data -m immediate stop",
                pg_ctl.display(),
                self.dir.display()
            )
        } else {
            format!("{} -D {}/data -m immediate stop", pg_ctl.display(), self.dir.display())
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {}",
            self.dir.display()
        );
        Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server's watchdog");
    }

    /// A connection string for a new, empty database.
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("test{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let status = command(&self.bin.join("createdb"))
            .arg("-h")
            .arg(&self.dir)
            .args(["-p", &self.port.to_string(), "-U", "postamt", &name])
            .status()
            .expect("createdb runs");
        assert!(status.success(), "createdb {name} failed");
        self.url(&name)
    }

    /// The path of one of the server's programs (`psql`, ...).
    pub fn binary(&self, name: &str) -> PathBuf {
        self.bin.join(name)
    }

    /// The connection string of database `name`.
    pub fn url(&self, name: &str) -> String {
        format!(
            "host={} port={} user=postamt dbname={name}",
            self.dir.display(),
            self.port
        )
    }

    /// The connection string of database `name` over TCP and TLS,
    /// verified against the server's CA (`sslrootcert`).
    pub fn tls_url(&self, name: &str) -> String {
        format!(
            "host=localhost port={} user=postamt dbname={name} sslmode=require sslrootcert={}",
            self.port,
            self.ca_file().display()
        )
    }

    /// The CA file that signed the server's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// The server's log, for a test's failure message.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
    }
}

/// A CA, and a certificate it signed for localhost and 127.0.0.1, in
/// `dir` (ca.pem; server.pem and server.key, readable by the server only).
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let status = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl {args:?} failed");
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let ca = [
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=postamt test CA",
    ];
    openssl(&[&["req", "-x509"][..], &ec, &ca].concat());
    let request = ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"];
    openssl(&[&["req"][..], &ec, &request].concat());
    std::fs::write(dir.join("san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n").expect("write san.ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("server.key"), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    if is_root() {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(dir.join("server.key"))
            .arg(dir.join("server.pem"))
            .status()
            .expect("chown");
        assert!(status.success());
    }
}
