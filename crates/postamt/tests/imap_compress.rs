//! IMAP COMPRESS=DEFLATE (RFC 4978) against the real binary, with Python's
//! zlib as the independent peer (raw DEFLATE, wbits=-15; imaplib has no
//! COMPRESS, so the protocol is driven by hand): the same commands give
//! byte-identical answers with and without compression, over imap and
//! imaps; a compression bomb is refused within the line limit and costs
//! no memory; and what an idle compressed session costs is measured.

mod common;

use common::Server;

/// A hand-driven IMAP client that may compress (RFC 4978): `command`
/// sends a command (its literals as separate parts, each synchronising
/// one waiting for "+") and returns everything up to its tagged answer.
const CLIENT: &str = r#"
import socket, ssl, zlib, mailtest

class Client:
    def __init__(self, port, tls=False):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        if tls:
            self.sock = mailtest.tls_context().wrap_socket(self.sock)
        self.buffer = b""
        self.inflate = None
        self.deflate = None
        self.received = 0
        self.greeting = self.line()

    def starttls(self):
        self.send(b"t STARTTLS\r\n")
        assert self.line().startswith(b"t OK"), "STARTTLS"
        self.sock = mailtest.tls_context().wrap_socket(self.sock)

    def compress(self):
        self.send(b"z COMPRESS DEFLATE\r\n")
        answer = self.line()
        assert answer.startswith(b"z OK"), answer
        assert self.buffer == b"", "nothing may follow the OK uncompressed"
        self.inflate = zlib.decompressobj(wbits=-15)
        self.deflate = zlib.compressobj(6, zlib.DEFLATED, -15)

    def send(self, data):
        if self.deflate:
            data = self.deflate.compress(data) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        self.sock.sendall(data)

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("closed")
        self.received += len(data)
        if self.inflate:
            data = self.inflate.decompress(data)
        self.buffer += data

    def line(self):
        while b"\n" not in self.buffer:
            self.fill()
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line + b"\n"

    def literal(self, size):
        while len(self.buffer) < size:
            self.fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def answer(self, tag):
        out = b""
        while True:
            line = self.line()
            out += line
            if line.endswith(b"}\r\n") and b"{" in line:
                out += self.literal(int(line[line.rindex(b"{") + 1:-3]))
                continue
            if line.startswith(tag + b" "):
                return out

    def command(self, tag, *parts):
        out = b""
        for part in parts[:-1]:
            self.send(part)
            if part.endswith(b"}\r\n") and not part.endswith(b"+}\r\n"):
                line = self.line()
                assert line.startswith(b"+"), line
                out += line
        self.send(parts[-1] + b"\r\n")
        return out + self.answer(tag)

    def login(self):
        answer = self.command(b"l", b"l LOGIN alice@example.test {%d}\r\n" % len(mailtest.PASSWORD), mailtest.PASSWORD.encode())
        assert b"l OK" in answer, answer
        return answer

# One script of commands, literals of both kinds, a large FETCH, errors.
SCRIPT = [
    (b"a", b"a CAPABILITY"),
    (b"b", b"b SELECT {5}\r\n", b"INBOX"),
    (b"c", b"c FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[])"),
    (b"d", b"d UID SEARCH TEXT {4+}\r\n", b"body"),
    (b"e", b"e LIST \"\" *"),
    (b"f", b"f STATUS INBOX (MESSAGES UNSEEN SIZE)"),
    (b"g", b"g FETCH 2 (BODY.PEEK[HEADER.FIELDS (SUBJECT)] BODY.PEEK[TEXT]<0.20>)"),
    (b"h", b"h BOGUS"),
    (b"i", b"i NOOP"),
    (b"j", b"j LOGOUT"),
]

def run(client):
    return b"".join(client.command(*step) for step in SCRIPT)
"#;

/// Fills alice's INBOX with a few messages, one large and repetitive so
/// that compression shows, over an uncompressed session.
const SEED: &str = r#"
client = mailtest.imap("alice@example.test")
for n in range(1, 4):
    body = b"body line %d of a message that repeats itself\r\n" % n * (200 * n)
    message = b"Subject: message %d\r\nFrom: bob@example.test\r\n\r\n" % n + body
    assert client.append("INBOX", None, None, message)[0] == "OK"
# Selected once, so no later session sees them \Recent.
client.select("INBOX")
client.logout()
"#;

#[test]
fn compressed_answers_are_byte_identical_to_uncompressed_ones_over_imap_and_imaps() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    server.python(&format!(
        "{CLIENT}\n{SEED}\n{}",
        r#"
def transcript(port, tls=False, starttls=False, compress=None):
    client = Client(port, tls)
    if starttls:
        client.starttls()
    if compress == "before login":
        client.compress()
    client.login()
    if compress == "after login":
        client.compress()
        # RFC 4978 §3: a second COMPRESS is refused with COMPRESSIONACTIVE.
        again = client.command(b"y", b"y COMPRESS DEFLATE")
        assert again.startswith(b"y NO [COMPRESSIONACTIVE]"), again
    out = run(client)
    return out, client.received

plain, plain_bytes = transcript(mailtest.IMAP_PORT)
assert b"COMPRESS=DEFLATE" in plain, plain
assert plain.count(b"message that repeats itself") > 100
for port, tls, starttls, when in [
    (mailtest.IMAP_PORT, False, False, "before login"),
    (mailtest.IMAP_PORT, False, False, "after login"),
    (mailtest.IMAP_PORT, False, True, "after login"),
    (mailtest.IMAPS_PORT, True, False, "before login"),
    (mailtest.IMAPS_PORT, True, False, "after login"),
]:
    compressed, compressed_bytes = transcript(port, tls, starttls, when)
    if compressed != plain:
        at = next(i for i in range(min(len(plain), len(compressed)) + 1) if compressed[i:i + 1] != plain[i:i + 1])
        raise AssertionError((port, tls, starttls, when, at, compressed[at - 200:at + 200], plain[at - 200:at + 200]))
    # The answers really went compressed: far fewer bytes on the wire.
    assert compressed_bytes * 5 < plain_bytes, (compressed_bytes, plain_bytes)
print("ok", plain_bytes)
"#
    ));
}

/// RFC 4978 §3: TLS goes below compression; STARTTLS once compressed is
/// refused, and so is a mechanism other than DEFLATE.
#[test]
fn starttls_after_compress_and_unknown_mechanisms_are_refused() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    server.python(&format!(
        "{CLIENT}\n{}",
        r#"
client = Client(mailtest.IMAP_PORT)
answer = client.command(b"a", b"a COMPRESS LZMA")
assert answer.startswith(b"a BAD"), answer
client.compress()
answer = client.command(b"b", b"b STARTTLS")
assert answer.startswith(b"b BAD"), answer
client.login()
assert client.command(b"c", b"c NOOP").startswith(b"c OK")
"#
    ));
}

/// A compression bomb: a few KiB of DEFLATE that inflate to a gigabyte of
/// one line. The server inflates no more than the line limit allows
/// before it answers BAD [TOOBIG] and hangs up (skipping the rest would
/// mean inflating all of it), within a second, and its memory does not
/// grow by more than a few MiB.
#[test]
fn a_compression_bomb_is_refused_within_the_line_limit() {
    let server = Server::with_users("[auth]\nallow_cleartext = true");
    let bomb = format!("{CLIENT}\n{BOMB}");
    // Before login (an 8 KiB line at most) and measured; after it (the
    // login's password hash would swamp the measure) for the answer.
    let grown = server.peak_growth_kib(|| {
        server.python(&format!("{bomb}\nbomb(Client(mailtest.IMAP_PORT))"));
    });
    assert!(grown < 8 * 1024, "the bomb grew the server by {grown} KiB");
    server.python(&format!(
        "{bomb}\nclient = Client(mailtest.IMAP_PORT)\nclient.login()\nbomb(client)"
    ));
}

/// Sends a gigabyte of one line through COMPRESS, made of 64 MiB pieces
/// (so the client's deflater stays small): about a megabyte compressed.
const BOMB: &str = r#"
import time

def bomb(client):
    client.compress()
    assert client.command(b"a", b"a NOOP").startswith(b"a OK")
    piece = b"x" * (64 * 1024 * 1024)
    started = time.monotonic()
    sent = 0
    try:
        client.sock.sendall(client.deflate.compress(b"b NOOP "))
        for _ in range(16):
            data = client.deflate.compress(piece) + client.deflate.flush(zlib.Z_SYNC_FLUSH)
            sent += len(data)
            client.sock.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    assert sent < 2 * 1024 * 1024, sent
    answer = client.line()
    assert answer.startswith(b"b BAD [TOOBIG]"), answer
    assert client.line().startswith(b"* BYE"), "the session ends"
    try:
        client.line()
        raise AssertionError("still open")
    except (EOFError, ConnectionResetError):
        pass
    assert time.monotonic() - started < 10, time.monotonic() - started
"#;

/// Memory per compressed session, measured: the server's resident memory
/// grows by this much for N more idle sessions that turned COMPRESS on
/// (and exchanged a command through it, so both directions have run),
/// against N more that did not; a first N warm the allocator up. The
/// figure is in net's deflate.rs and docs/design.md.
#[test]
fn an_idle_compressed_session_costs_a_bounded_amount_of_memory() {
    let server = Server::with_users("[limits]\nmax_connections_per_address = 2000\nmax_connections = 2000");
    let output = server.python(&format!(
        "{CLIENT}\nPID = {}\n{}",
        server.pid(),
        r#"
SESSIONS = 200

def rss():
    for line in open("/proc/%d/status" % PID):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def sessions(compress):
    clients = []
    for _ in range(SESSIONS):
        client = Client(mailtest.IMAP_PORT)
        if compress:
            client.compress()
        assert client.command(b"a", b"a NOOP").startswith(b"a OK")
        clients.append(client)
    return clients

warm = sessions(False)
before = rss()
plain = sessions(False)
middle = rss()
compressed = sessions(True)
after = rss()
print((middle - before) // SESSIONS, (after - middle) // SESSIONS)
"#
    ));
    let figures: Vec<u64> = output.split_whitespace().map(|n| n.parse().expect("KiB")).collect();
    let (plain, compressed) = (figures[0], figures[1]);
    eprintln!("an idle session: {plain} KiB plain, {compressed} KiB compressed");
    // Measured 60 KiB more (the decompressor's 32 KiB window and tables,
    // and the allocator's share); a compressor kept per session would add
    // some 320 KiB.
    assert!(
        compressed <= plain + 100,
        "an idle compressed session costs {compressed} KiB, a plain one {plain} KiB"
    );
}
