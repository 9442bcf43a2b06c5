"""A mail server that is not postamt, for postamt's delivery tests:
aiosmtpd on 127.0.0.1 (a port chosen by the system), which stores every
message it accepts as a file in a directory, and can be told to answer
with temporary failures first.

Usage: python3 smtppeer.py DIRECTORY [--defer N] [--reject ADDRESS]...
                           [--no-smtputf8] [--port PORT] [--host ADDRESS]
                           [--tls CERT KEY] [--broken-tls CERT KEY]
Prints its port, then serves until its standard input closes. Each
accepted message is DIRECTORY/N.eml; DIRECTORY/N.env holds the envelope
(MAIL FROM, then one RCPT TO per line) and DIRECTORY/N.conn the number of
the connection it came over. With --port it serves on that port (one a
test kept unanswered until now), else on one the system has free; with
--host on that loopback address instead of 127.0.0.1 (several peers can
then share one port, as MX hosts of a domain do). --tls offers STARTTLS
with that certificate chain and key (PEM files); --broken-tls offers it
(with that certificate) but allows only TLS 1.1 and older, so no
handshake with a modern client succeeds (TLS reporting's tests)."""

import argparse
import logging
import os
import socket
import ssl
import warnings
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Peer:
    def __init__(self, directory, defer, reject):
        self.directory = directory
        self.defer = defer
        self.reject = {address.lower() for address in reject}
        self.count = 0
        self.connections = 0

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
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK: stored as %d" % self.count


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
    args = parser.parse_args()
    tls_context = None
    if args.tls or args.broken_tls:
        tls_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_context.load_cert_chain(*(args.tls or args.broken_tls))
        if args.broken_tls:
            # Deprecated versions on purpose: nothing modern speaks them.
            warnings.simplefilter("ignore", DeprecationWarning)
            # Every handshake fails, as meant: no traceback for each.
            logging.getLogger("mail.log").setLevel(logging.CRITICAL)
            tls_context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            tls_context.maximum_version = ssl.TLSVersion.TLSv1_1
    peer = Peer(args.directory, args.defer, args.reject)
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
        controller = Controller(
            peer,
            hostname=args.host,
            port=port,
            server_hostname="peer.test",
            decode_data=False,
            enable_SMTPUTF8=not args.no_smtputf8,
            tls_context=tls_context,
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
