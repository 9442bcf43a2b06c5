//! A real DNS server on loopback (tests/python/dnsserver.py, with
//! dnslib), serving a zone of `NAME TYPE VALUE` lines and logging the
//! questions it gets. Shared by the tests of the crates that ask DNS
//! (dns, queue, msgauth) through `#[path]`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

/// A DNS server serving a zone; it stops when dropped.
pub struct DnsServer {
    child: Child,
    pub address: SocketAddr,
    _zone: tempfile::NamedTempFile,
    log: tempfile::NamedTempFile,
}

impl DnsServer {
    pub fn start(zone: &str) -> DnsServer {
        let mut file = tempfile::NamedTempFile::new().expect("zone file");
        file.write_all(zone.as_bytes()).expect("zone written");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/python/dnsserver.py");
        let log = tempfile::NamedTempFile::new().expect("query log");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(file.path())
            .arg(log.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 with dnslib (pip install dnslib)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("port line");
        let port: u16 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("DNS server did not start: {line:?}"));
        DnsServer {
            child,
            address: SocketAddr::from(([127, 0, 0, 1], port)),
            _zone: file,
            log,
        }
    }

    /// Every question asked so far, in order, as `name TYPE` (the name
    /// in lower case, without the final dot).
    pub fn queries(&self) -> Vec<String> {
        std::fs::read_to_string(self.log.path())
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
