"""Messages for bench/auth-checks.sh, signed by an independent DKIM
signer (dkimpy), with keys made for the run.

Usage: python3 bench/lib/dkim-messages.py DIR SIZE

Writes into DIR three messages of about SIZE bytes from bench@bench.test,
the same but for their signatures (lines end in CRLF, as on the wire):
  unsigned.eml     no signature
  rsa.eml          one rsa-sha256 signature, 2048-bit key (the usual case)
  both.eml         ed25519-sha256 and rsa-sha256, as postamt itself signs
and prints the zone lines (tests/python/dnsserver.py's form) that publish
the two keys under bench.test, so that verification runs and passes.
"""

import base64
import subprocess
import sys

import dkim

HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]


def openssl(*args):
    return subprocess.run(["openssl", *args], check=True, capture_output=True).stdout


def txt(value):
    """A TXT value as zone text: strings of at most 255 bytes (RFC 1035 §3.3.14)."""
    return " ".join(f'"{value[i:i + 250]}"' for i in range(0, len(value), 250))


def main():
    directory, size = sys.argv[1], int(sys.argv[2])
    rsa_pem = f"{directory}/rsa.pem"
    ed_pem = f"{directory}/ed.pem"
    openssl("genrsa", "-out", rsa_pem, "2048")
    openssl("genpkey", "-algorithm", "ed25519", "-out", ed_pem)
    rsa_private = open(rsa_pem, "rb").read()
    rsa_public = base64.b64encode(openssl("rsa", "-pubout", "-outform", "DER", "-in", rsa_pem)).decode()
    # openssl writes ed25519 keys in DER that ends with the 32 raw bytes,
    # the form dkimpy (the seed) and the key record (RFC 8463 §4.2) want.
    ed_private = base64.b64encode(openssl("pkey", "-outform", "DER", "-in", ed_pem)[-32:])
    ed_public = base64.b64encode(openssl("pkey", "-pubout", "-outform", "DER", "-in", ed_pem)[-32:]).decode()

    message = (
        b"From: Bench <bench@bench.test>\r\nTo: bench0@example.test\r\nSubject: benchmark\r\n"
        b"Date: Tue, 1 Dec 2026 08:00:00 +0000\r\nMessage-ID: <signed.1@bench.test>\r\n"
        b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    while len(message) < size:
        message += b"The quick brown fox jumps over the lazy dog, again and again.\r\n"

    def sign(selector, key, text, algorithm):
        return dkim.sign(text, selector, b"bench.test", key, include_headers=HEADERS,
                         canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=algorithm)

    rsa = sign(b"rsa", rsa_private, message, b"rsa-sha256") + message
    both = sign(b"ed", ed_private, rsa, b"ed25519-sha256") + rsa
    for name, text in (("unsigned", message), ("rsa", rsa), ("both", both)):
        with open(f"{directory}/{name}.eml", "wb") as out:
            out.write(text.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    print(f"rsa._domainkey.bench.test TXT {txt('v=DKIM1; k=rsa; p=' + rsa_public)}")
    print(f"ed._domainkey.bench.test TXT {txt('v=DKIM1; k=ed25519; p=' + ed_public)}")


if __name__ == "__main__":
    main()
