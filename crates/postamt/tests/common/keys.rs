//! DKIM keys for tests that sign with an independent implementation
//! (dkimpy): made by openssl, published in the test DNS server's zone.

use std::path::Path;
use std::process::Command;

/// A TXT record value as zone text: quoted strings of at most 255 bytes
/// (RFC 1035 §3.3.14), as long records are published.
pub fn txt(value: &str) -> String {
    value
        .as_bytes()
        .chunks(250)
        .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A fresh RSA key of `bits`: the PEM file for dkimpy, and the public key
/// as the base64 of its DER form, for the `p=` of the DKIM record.
pub fn rsa_key(dir: &Path, name: &str, bits: u32) -> (String, String) {
    let pem = dir.join(format!("{name}.pem"));
    let status = Command::new("openssl")
        .args(["genrsa", "-out"])
        .arg(&pem)
        .arg(bits.to_string())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("run openssl");
    assert!(status.success());
    let public = Command::new("openssl")
        .args(["rsa", "-pubout", "-outform", "DER", "-in"])
        .arg(&pem)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("run openssl");
    use base64::Engine;
    let public = base64::engine::general_purpose::STANDARD.encode(public.stdout);
    (pem.to_string_lossy().into_owned(), public)
}

/// Python: `verify(message)` runs dkimpy on every DKIM-Signature of
/// `message`, answering key queries from the zone lines `postamt dns`
/// printed, and returns each signature's algorithm with its result.
pub fn dkimpy_verifier(zone_lines: &str) -> String {
    format!(
        r#"
import re, dkim
ZONE = {zone_lines:?}
TXT = {{}}
for line in ZONE.splitlines():
    m = re.match(r'(\S+) IN TXT (.*)$', line)
    if m:
        TXT[m.group(1).lower()] = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))

def dnsfunc(name, timeout=5):
    name = name.decode() if isinstance(name, bytes) else name
    name = name.lower().rstrip(".") + "."
    return TXT.get(name, "").encode()

def verify(message):
    count = len(re.findall(rb'(?im)^DKIM-Signature:', message))
    results = []
    for i in range(count):
        d = dkim.DKIM(message)
        try:
            ok = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException:
            # A body hash mismatch is raised, not returned.
            ok = False
        results.append((d.signature_fields[b"a"].decode(), ok))
    return sorted(results)
"#
    )
}
