"""Helpers for postamt's end-to-end tests: connect to the server under test
with Python's own smtplib and poplib, wait for delivery, compare messages."""

import base64
import os
import imaplib
import poplib
import smtplib
import socket
import sqlite3
import ssl
import time

HOST = "127.0.0.1"
SMTP_PORT = int(os.environ.get("SMTP_PORT", "0"))
SUBMISSION_PORT = int(os.environ.get("SUBMISSION_PORT", "0"))
SUBMISSIONS_PORT = int(os.environ.get("SUBMISSIONS_PORT", "0"))
POP3_PORT = int(os.environ.get("POP3_PORT", "0"))
POP3S_PORT = int(os.environ.get("POP3S_PORT", "0"))
IMAP_PORT = int(os.environ.get("IMAP_PORT", "0"))
IMAPS_PORT = int(os.environ.get("IMAPS_PORT", "0"))
MANAGESIEVE_PORT = int(os.environ.get("MANAGESIEVE_PORT", "0"))
PASSWORD = os.environ.get("PASSWORD", "")


def tls_context():
    """The test server uses its self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def smtp(port=None, source=None):
    """An SMTP session after EHLO; `source` picks the client's address
    (any of 127.0.0.0/8 works on loopback)."""
    source_address = (source, 0) if source else None
    client = smtplib.SMTP(HOST, port or SMTP_PORT, timeout=30, source_address=source_address)
    client.ehlo("client.test")
    return client


def submit(user, tls="starttls", source=None):
    """An authenticated submission session: STARTTLS on 587 or implicit TLS
    on 465."""
    source_address = (source, 0) if source else None
    if tls == "implicit":
        client = smtplib.SMTP_SSL(HOST, SUBMISSIONS_PORT, context=tls_context(), timeout=30,
                                  source_address=source_address)
    else:
        client = smtplib.SMTP(HOST, SUBMISSION_PORT, timeout=30, source_address=source_address)
        client.starttls(context=tls_context())
    client.ehlo("client.test")
    client.login(user, PASSWORD)
    return client


def pop3(user, tls="stls", wait_unlocked=True):
    """A logged-in POP3 session: over STLS on the pop3 port, or implicit TLS.
    A session that just ended may hold the maildrop lock for a moment after
    the client has gone; unless told otherwise, wait for it."""
    deadline = time.time() + 10
    while True:
        if tls == "implicit":
            client = poplib.POP3_SSL(HOST, POP3S_PORT, context=tls_context(), timeout=30)
        else:
            client = poplib.POP3(HOST, POP3_PORT, timeout=30)
            client.stls(tls_context())
        client.user(user)
        try:
            client.pass_(PASSWORD)
            return client
        except poplib.error_proto as e:
            client.close()
            if not wait_unlocked or b"[IN-USE]" not in e.args[0] or time.time() > deadline:
                raise
            time.sleep(0.05)


def imap(user, tls="starttls"):
    """A logged-in IMAP session: STARTTLS on the imap port, or implicit TLS."""
    if tls == "implicit":
        client = imaplib.IMAP4_SSL(HOST, IMAPS_PORT, ssl_context=tls_context(), timeout=30)
    else:
        client = imaplib.IMAP4(HOST, IMAP_PORT, timeout=30)
        client.starttls(ssl_context=tls_context())
    typ, _ = client.login(user, PASSWORD)
    assert typ == "OK"
    return client


def wait_for_messages(user, count, timeout=20):
    """Polls until the maildrop holds `count` messages (delivery runs right
    after the 250, in the queue); returns their contents."""
    deadline = time.time() + timeout
    while True:
        client = pop3(user)
        number, _ = client.stat()
        if number >= count or time.time() > deadline:
            messages = [retrieve(client, i + 1) for i in range(number)]
            client.quit()
            assert number == count, f"{user} has {number} messages, expected {count}"
            return messages
        client.quit()
        time.sleep(0.05)


def retrieve(client, number):
    """RETR, with the lines joined back into the bytes that were stored."""
    _, lines, _ = client.retr(number)
    return b"".join(line + b"\r\n" for line in lines)


def stored_messages():
    """The content of every stored message: the small ones kept in the
    database, then the blob files."""
    data = os.path.join(os.environ["DATA_DIR"], "data")
    db = sqlite3.connect("file:" + os.path.join(data, "postamt.db") + "?mode=ro", uri=True)
    contents = [row[0] for row in db.execute("SELECT data FROM inline_blobs ORDER BY hash")]
    db.close()
    root = os.path.join(data, "blobs")
    for fan_out in sorted(os.listdir(root)):
        if len(fan_out) != 2:
            continue
        for name in sorted(os.listdir(os.path.join(root, fan_out))):
            with open(os.path.join(root, fan_out, name), "rb") as f:
                contents.append(f.read())
    return contents


# DKIM-Signature: added by postamt when it queues submitted mail.
# Authentication-Results only under the test server's name: the inbound
# checks add it; a client's own stays part of the message.
TRACE_HEADERS = (b"Return-Path:", b"Delivered-To:", b"Received:", b"DKIM-Signature:",
                 b"Authentication-Results: mx.example.test;")


def strip_trace(message):
    """Removes the trace headers added on the way in (a Received header
    continues on lines that start with a tab)."""
    lines = message.split(b"\r\n")
    kept = []
    in_trace = True
    for line in lines:
        if in_trace and (line.startswith(TRACE_HEADERS) or line.startswith(b"\t")):
            continue
        in_trace = False
        kept.append(line)
    return b"\r\n".join(kept)


class Raw:
    """A bare connection, for what smtplib and poplib would never send.
    Reads the greeting on connect."""

    def __init__(self, port, tls=False, source=None, greeting=True):
        source_address = (source, 0) if source else None
        self.sock = socket.create_connection((HOST, port), timeout=30, source_address=source_address)
        if tls:
            self.sock = tls_context().wrap_socket(self.sock)
        self.reader = self.sock.makefile("rb")
        self.greeting = self.line() if greeting else None

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        return self.reader.readline()

    def lines(self, count):
        return [self.line() for _ in range(count)]

    def reply(self):
        """One SMTP reply, all its lines."""
        lines = [self.line()]
        while lines[-1][3:4] == b"-":
            lines.append(self.line())
        return lines

    def command(self, line):
        """Sends one command line; returns the first line of the answer."""
        self.send(line + b"\r\n")
        return self.line()

    def closed(self):
        return self.line() == b""


class ManageSieve:
    """A ManageSieve session (RFC 5804) over STARTTLS, logged in as
    `user` with SASL PLAIN unless `login` is false."""

    def __init__(self, user, login=True):
        self.sock = socket.create_connection((HOST, MANAGESIEVE_PORT), timeout=30)
        self.reader = self.sock.makefile("rb")
        self.capabilities = self.answer()
        assert self.command(b"STARTTLS")[-1].startswith(b"OK"), "STARTTLS refused"
        self.sock = tls_context().wrap_socket(self.sock)
        self.reader = self.sock.makefile("rb")
        # RFC 5804 section 2.2: the capabilities again, unasked.
        self.capabilities = self.answer()
        if login:
            credentials = base64.b64encode(b"\0" + user.encode() + b"\0" + PASSWORD.encode())
            answer = self.command(b'AUTHENTICATE "PLAIN" "' + credentials + b'"')
            assert answer == [b"OK \"Logged in\"\r\n"], answer

    def answer(self):
        """The lines up to and including the OK, NO or BYE that ends them."""
        lines = []
        while True:
            line = self.reader.readline()
            assert line, "the server closed the connection"
            lines.append(line)
            if line.split(b" ", 1)[0].rstrip(b"\r\n") in (b"OK", b"NO", b"BYE"):
                return lines

    def command(self, line, literal=None):
        """Sends a command, with `literal` (bytes) as its last argument in
        the {n+} form if given; returns the answer's lines."""
        if literal is not None:
            line += b" {%d+}\r\n" % len(literal) + literal
        self.sock.sendall(line + b"\r\n")
        return self.answer()

