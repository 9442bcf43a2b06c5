//! DNSSEC-signed zones served on loopback by a real authoritative
//! server: Knot DNS (`knotd`) serving zone files signed beforehand with
//! ldns (`ldns-keygen`, `ldns-signzone`), started in a temporary
//! directory on a free port. Each signed zone has one key, which signs
//! everything; the first zone is the trust anchor (its key is written to
//! `trust_anchor_path`, and a non-root anchor must be every key of its
//! zone, see docs/design.md "DNSSEC is validated ..."); every other zone is
//! delegated from the nearest enclosing zone in the list, with a DS in
//! the parent or not as its `Signing` says. Shared by the tests of the
//! crates that validate DNSSEC (dns, queue, postamt) through `#[path]`.
//!
//! The server answers for every zone itself, as one authoritative
//! server for a parent and its children does (RFC 4035 §3.1.4.1: a DS
//! question is answered from the parent side), so a stub resolver
//! pointed at it can validate from the anchor down without recursion.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How a zone is signed and delegated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// Signed, with the DS of its key in the parent: secure. Denials are
    /// NSEC records (RFC 4035 §2.3).
    Signed,
    /// The same with NSEC3 denials (RFC 5155; no extra iterations and no
    /// salt, as RFC 9276 §3.1 asks).
    SignedNsec3,
    /// Not signed, and no DS in the parent (the parent's NSEC proves
    /// there is none): insecure.
    Unsigned,
    /// Signed, but the DS in the parent is another key's: bogus.
    WrongDs,
    /// Signed with signatures that expired yesterday: bogus.
    Expired,
    /// The DS in the parent is right, but the zone is served without
    /// its signatures (what a resolver that strips RRSIGs passes on):
    /// bogus.
    Stripped,
}

/// A zone to serve: its name (no final dot), how it is signed, and its
/// records as zone-file lines (RFC 1035 §5.1), names relative to the
/// zone or absolute. The SOA, NS and delegations are added.
#[derive(Debug, Clone)]
pub struct ZoneSpec {
    pub name: String,
    pub signing: Signing,
    pub records: String,
}

impl ZoneSpec {
    pub fn new(name: &str, signing: Signing, records: &str) -> ZoneSpec {
        ZoneSpec {
            name: name.trim_end_matches('.').to_ascii_lowercase(),
            signing,
            records: records.to_string(),
        }
    }
}

/// A running knotd; it stops when dropped.
pub struct SignedDns {
    child: Child,
    pub address: SocketAddr,
    /// The first zone's DNSKEY, as a trust anchor file (zone-file syntax).
    pub trust_anchor_path: PathBuf,
    dir: tempfile::TempDir,
}

const KEY_ALGORITHM: &str = "ECDSAP256SHA256";

impl SignedDns {
    /// Signs `zones` and serves them. The first zone is the anchor and
    /// must be `Signed`; the others must lie below it.
    pub fn start(zones: &[ZoneSpec]) -> SignedDns {
        let anchor = zones.first().expect("at least the anchor zone");
        assert!(
            matches!(anchor.signing, Signing::Signed | Signing::SignedNsec3),
            "the anchor zone is signed"
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let zone_dir = dir.path().join("zones");
        std::fs::create_dir(&zone_dir).expect("zones directory");
        let texts = zone_texts(zones);
        // Children before parents: a parent's file needs its children's DS.
        let mut order: Vec<usize> = (0..zones.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(zones[i].name.split('.').count()));
        let mut ds_lines: Vec<String> = vec![String::new(); zones.len()];
        let mut trust_anchor_path = PathBuf::new();
        for i in order {
            let zone = &zones[i];
            let mut text = texts[i].clone();
            for (j, child) in zones.iter().enumerate() {
                if parent_of(zones, j) == Some(i) {
                    text.push_str(&format!("{}. IN NS ns.{}.\n", child.name, anchor.name));
                    text.push_str(&ds_lines[j]);
                }
            }
            let file = zone_dir.join(format!("{}.zone", zone.name));
            std::fs::write(&file, &text).expect("zone file written");
            if zone.signing == Signing::Unsigned {
                continue;
            }
            let key = generate_key(&zone_dir, &zone.name);
            ds_lines[i] = if zone.signing == Signing::WrongDs {
                read(&zone_dir.join(format!("{}.ds", generate_key(&zone_dir, &zone.name))))
            } else {
                read(&zone_dir.join(format!("{key}.ds")))
            };
            if i == 0 {
                trust_anchor_path = dir.path().join("trust-anchor.key");
                std::fs::copy(zone_dir.join(format!("{key}.key")), &trust_anchor_path).expect("trust anchor written");
            }
            if zone.signing != Signing::Stripped {
                sign(&zone_dir, &file, &key, zone.signing);
            }
        }
        let (child, address) = serve(dir.path(), zones);
        SignedDns {
            child,
            address,
            trust_anchor_path,
            dir,
        }
    }

    /// knotd's log so far, for failure messages.
    pub fn log(&self) -> String {
        read(&self.dir.path().join("knotd.log"))
    }
}

impl Drop for SignedDns {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Each zone's file before delegations and signing.
fn zone_texts(zones: &[ZoneSpec]) -> Vec<String> {
    let anchor = &zones[0].name;
    zones
        .iter()
        .enumerate()
        .map(|(i, zone)| {
            let mut text = format!(
                "$ORIGIN {name}.\n$TTL 300\n\
                 @ IN SOA ns.{anchor}. hostmaster.{anchor}. 1 3600 600 86400 300\n\
                 @ IN NS ns.{anchor}.\n",
                name = zone.name
            );
            if i == 0 {
                text.push_str("ns IN A 127.0.0.1\n");
            }
            text.push_str(&zone.records);
            text.push('\n');
            text
        })
        .collect()
}

/// The index of the nearest zone in `zones` that encloses zone `child`.
fn parent_of(zones: &[ZoneSpec], child: usize) -> Option<usize> {
    let name = &zones[child].name;
    zones
        .iter()
        .enumerate()
        .filter(|(i, zone)| *i != child && name.ends_with(&format!(".{}", zone.name)))
        .max_by_key(|(_, zone)| zone.name.len())
        .map(|(i, _)| i)
}

/// A new key for `zone` in `dir` (a single key with the SEP flag, which
/// signs everything: a "combined signing key"); its file base name.
fn generate_key(dir: &Path, zone: &str) -> String {
    let output = Command::new("ldns-keygen")
        .args(["-a", KEY_ALGORITHM, "-k", &format!("{zone}.")])
        .current_dir(dir)
        .output()
        .expect("ldns-keygen (Debian ldnsutils)");
    assert!(output.status.success(), "ldns-keygen: {output:?}");
    String::from_utf8(output.stdout).expect("key name").trim().to_string()
}

/// Signs `file` into `file.signed`. The signatures start an hour ago
/// (clocks differ) and end in 30 days, or for `Expired` ended yesterday.
fn sign(dir: &Path, file: &Path, key: &str, signing: Signing) {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs();
    let day = 86_400;
    let (inception, expiration) = if signing == Signing::Expired {
        (now - 30 * day, now - day)
    } else {
        (now - 3600, now + 30 * day)
    };
    let mut command = Command::new("ldns-signzone");
    if signing == Signing::SignedNsec3 {
        command.args(["-n", "-t", "0"]);
    }
    let output = command
        .arg("-i")
        .arg(inception.to_string())
        .arg("-e")
        .arg(expiration.to_string())
        .arg(file)
        .arg(key)
        .current_dir(dir)
        .output()
        .expect("ldns-signzone (Debian ldnsutils)");
    assert!(output.status.success(), "ldns-signzone: {output:?}");
}

/// Starts knotd on a free loopback port for UDP and TCP and waits until
/// it answers for every zone.
fn serve(dir: &Path, zones: &[ZoneSpec]) -> (Child, SocketAddr) {
    for _ in 0..20 {
        let port = free_port();
        let config = dir.join("knot.conf");
        std::fs::write(&config, knot_config(dir, port, zones)).expect("knot.conf written");
        let log = std::fs::File::create(dir.join("knotd.log")).expect("knotd log");
        let mut child = Command::new("knotd")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("knotd (Debian knot)");
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        if wait_until_serving(&mut child, port, zones) {
            return (child, address);
        }
        // Someone took the port in between, or knotd failed: try another.
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("knotd did not start: {}", read(&dir.join("knotd.log")));
}

fn knot_config(dir: &Path, port: u16, zones: &[ZoneSpec]) -> String {
    let dir = dir.display();
    let mut config = format!(
        "server:\n    rundir: \"{dir}\"\n    listen: 127.0.0.1@{port}\n\
         log:\n  - target: stderr\n    any: info\n\
         database:\n    storage: \"{dir}\"\n\
         template:\n  - id: default\n    storage: \"{dir}/zones\"\n\
         \x20   zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n\
         zone:\n"
    );
    for zone in zones {
        let file = match zone.signing {
            Signing::Unsigned | Signing::Stripped => format!("{}.zone", zone.name),
            _ => format!("{}.zone.signed", zone.name),
        };
        config.push_str(&format!("  - domain: {}.\n    file: {file}\n", zone.name));
    }
    config
}

/// A port free for both UDP and TCP on 127.0.0.1 just now.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("UDP socket");
        let port = udp.local_addr().expect("address").port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// True once every zone's SOA is served; false if knotd exits or does
/// not get there within ten seconds.
fn wait_until_serving(child: &mut Child, port: u16, zones: &[ZoneSpec]) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut waiting: Vec<&ZoneSpec> = zones.iter().collect();
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        waiting.retain(|zone| !serves_soa(port, &zone.name));
        if waiting.is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn serves_soa(port: u16, zone: &str) -> bool {
    Command::new("kdig")
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+tcp",
            "+short",
            "+time=1",
            "+retry=0",
        ])
        .args(["SOA", &format!("{zone}.")])
        .output()
        .map(|output| output.status.success() && !output.stdout.is_empty())
        .unwrap_or(false)
}

/// The association data of a `3 1 1` TLSA record (DANE-EE, the public
/// key, SHA-256; RFC 7671 §5.1, RFC 7672 §3.1.1) for the certificate in
/// the PEM file `cert`, in hex, as openssl computes it.
pub fn spki_sha256_hex(cert: &Path) -> String {
    let public_key = run("openssl", &["x509", "-in", path_str(cert), "-pubkey", "-noout"], &[]);
    let der = run("openssl", &["pkey", "-pubin", "-outform", "DER"], &public_key);
    let digest = run("openssl", &["dgst", "-sha256", "-r"], &der);
    let text = String::from_utf8(digest).expect("openssl dgst output");
    text.split_whitespace().next().expect("digest").to_string()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

/// `program args` with `input` on its standard input; its output.
fn run(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("input written");
    let output = child.wait_with_output().expect("output");
    assert!(output.status.success(), "{program} {args:?}: {output:?}");
    output.stdout
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}
