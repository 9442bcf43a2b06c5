"""A mail server that is not postamt, for postamt's delivery tests:
aiosmtpd on 127.0.0.1 (a port chosen by the system), which stores every
message it accepts as a file in a directory, and can be told to answer
with temporary failures first.

Usage: python3 smtppeer.py DIRECTORY [--defer N] [--reject ADDRESS]...
                           [--no-smtputf8] [--port PORT] [--host ADDRESS]
                           [--tls CERT KEY | --broken-tls CERT KEY | --starttls]
                           [--requiretls]
Prints its port, then serves until its standard input closes. Each
accepted message is DIRECTORY/N.eml; DIRECTORY/N.env holds the envelope
(MAIL FROM, then one RCPT TO per line), DIRECTORY/N.conn the number of
the connection it came over, and DIRECTORY/N.requiretls is there when MAIL
carried REQUIRETLS. With --port it serves on that port (one a
test kept unanswered until now), else on one the system has free; with
--host on that loopback address instead of 127.0.0.1 (several peers can
then share one port, as MX hosts of a domain do). --tls offers STARTTLS
with that certificate chain and key (PEM files); --broken-tls offers it
(with that certificate) but allows only TLS 1.1 and older, so no
handshake with a modern client succeeds (TLS reporting's tests);
--starttls offers it with a self-signed certificate (made with the
openssl command). With --requiretls it announces REQUIRETLS (RFC 8689)
once under TLS and takes the MAIL parameter there."""

import argparse
import logging
import os
import socket
import ssl
import subprocess
import sys
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, syntax


class PeerSMTP(SMTP):
    """aiosmtpd, which knows no REQUIRETLS, taught to take it on MAIL
    under TLS (RFC 8689 §2: a parameter without a value)."""

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg):
        words = (arg or "").split(" ")
        wanted = [w for w in words[1:] if w.upper() == "REQUIRETLS"]
        offered = self.event_handler.requiretls and self.session.ssl is not None
        if wanted and offered:
            arg = " ".join([words[0]] + [w for w in words[1:] if w.upper() != "REQUIRETLS"])
        await super().smtp_MAIL(arg)
        if wanted and offered and self.envelope.mail_from is not None:
            self.envelope.requiretls = True


class PeerController(Controller):
    def factory(self):
        return PeerSMTP(self.handler, **self.SMTP_kwargs)


class Peer:
    def __init__(self, directory, defer, reject, requiretls):
        self.directory = directory
        self.defer = defer
        self.reject = {address.lower() for address in reject}
        self.requiretls = requiretls
        self.count = 0
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.requiretls and session.ssl is not None:
            responses.insert(len(responses) - 1, "250-REQUIRETLS")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: no such user at the peer" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 the peer says: try again later"
        self.count += 1
        if not hasattr(session, "number"):
            self.connections += 1
            session.number = self.connections
        base = os.path.join(self.directory, str(self.count))
        with open(base + ".conn", "w", encoding="utf-8") as f:
            f.write("%d\n" % session.number)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w", encoding="utf-8") as f:
            f.write("\n".join([envelope.mail_from] + envelope.rcpt_tos) + "\n")
        if getattr(envelope, "requiretls", False):
            open(base + ".requiretls", "w").close()
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK: stored as %d" % self.count


def tls_context(directory):
    """A server context with a fresh self-signed certificate for
    mx.peer.test, kept beside the messages (which are *.eml). Not a CA
    certificate, so a client may take it as its own trust anchor."""
    key, cert = (os.path.join(directory, name) for name in ("tls.key", "tls.crt"))
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=mx.peer.test",
         "-addext", "subjectAltName=DNS:mx.peer.test",
         "-addext", "basicConstraints=critical,CA:FALSE"],
        check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("--defer", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--no-smtputf8", action="store_true")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--broken-tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--requiretls", action="store_true")
    args = parser.parse_args()
    peer = Peer(args.directory, args.defer, args.reject, args.requiretls)
    tls = None
    if args.tls or args.broken_tls:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(*(args.tls or args.broken_tls))
        if args.broken_tls:
            # Deprecated versions on purpose: nothing modern speaks them.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Every handshake fails, as meant: no traceback for each.
            logging.getLogger("mail.log").setLevel(logging.CRITICAL)
            tls.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            tls.maximum_version = ssl.TLSVersion.TLSv1_1
    elif args.starttls:
        tls = tls_context(args.directory)
    # aiosmtpd checks its own start by connecting, so it needs the port up
    # front: take one the system has free, and another if it was taken
    # before aiosmtpd could bind it.
    for _ in range(100):
        if args.port:
            port = args.port
        else:
            with socket.socket() as probe:
                probe.bind((args.host, 0))
                port = probe.getsockname()[1]
        controller = PeerController(
            peer,
            hostname=args.host,
            port=port,
            server_hostname="peer.test",
            decode_data=False,
            enable_SMTPUTF8=not args.no_smtputf8,
            tls_context=tls,
        )
        try:
            controller.start()
            break
        except (OSError, RuntimeError):
            if args.port:
                raise SystemExit("port %d is taken" % args.port)
            continue
    else:
        raise SystemExit("no free port")
    print(port, flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
