"""Replays the IMAP golden fixtures (tests/fixtures/imap-golden, answers
of Dovecot 2.3.19) against a running postamt, as its README describes:
APPEND every message to a fresh mailbox with the fixed INTERNALDATE,
SELECT it, send every recorded command and compare the untagged answers.

Answers are compared as token trees, so a quoted string and a literal with
the same octets are equal (an allowed difference); everything else must
match, unless the (fixture, command) pair is in the allow-list given on the
command line as a file of lines `NN<TAB>command<TAB>reason`.

Usage: python3 golden.py FIXTURE_DIR USER PASSWORD [ALLOWLIST]
Prints one line per mismatch and exits 1 if any is not allowed."""

import hashlib
import os
import socket
import sys

import mailtest

INTERNALDATE = b'"01-Jan-2026 12:00:00 +0000"'


class Client:
    def __init__(self):
        raw = socket.create_connection((mailtest.HOST, mailtest.IMAPS_PORT), timeout=60)
        self.sock = mailtest.tls_context().wrap_socket(raw)
        self.reader = self.sock.makefile("rb")
        self.reader.readline()
        self.count = 0

    def command(self, command):
        """Sends `tag command`, answering synchronising literals; returns
        (untagged bytes, tagged line)."""
        self.count += 1
        tag = b"g%d" % self.count
        pending = tag + b" " + command + b"\r\n"
        while True:
            cut = find_sync_literal(pending)
            if cut is None:
                self.sock.sendall(pending)
                break
            self.sock.sendall(pending[:cut])
            pending = pending[cut:]
            line = self.reader.readline()
            if not line.startswith(b"+"):
                return b"", line
        untagged = b""
        while True:
            line = self.reader.readline()
            if not line:
                raise ConnectionError("the server closed the connection during %r" % command[:60])
            if line.startswith(tag + b" "):
                return untagged, line
            untagged += line
            # A line ending in {n} announces a literal of n octets.
            if line.endswith(b"}\r\n") and b"{" in line:
                size = int(line[line.rindex(b"{") + 1 : -3].rstrip(b"+"))
                untagged += self.reader.read(size)
            while not untagged.endswith(b"\r\n"):
                line = self.reader.readline()
                if not line:
                    raise ConnectionError("the server closed the connection during %r" % command[:60])
                untagged += line
                if line.endswith(b"}\r\n") and b"{" in line:
                    size = int(line[line.rindex(b"{") + 1 : -3].rstrip(b"+"))
                    untagged += self.reader.read(size)


def find_sync_literal(data):
    """The end of the first `{n}\\r\\n` in `data`, if any."""
    start = 0
    while True:
        brace = data.find(b"{", start)
        if brace < 0:
            return None
        end = data.find(b"}\r\n", brace)
        if end > brace and data[brace + 1 : end].isdigit():
            return end + 3
        start = brace + 1


def tokens(data):
    """IMAP response data as a nested list: bytes for strings and atoms,
    None for NIL."""
    out, stack, i = [], [], 0
    current = out
    while i < len(data):
        c = data[i : i + 1]
        if c in (b" ", b"\r", b"\n"):
            i += 1
        elif c in (b"(", b"["):
            stack.append(current)
            current.append([])
            current = current[-1]
            i += 1
        elif c in (b")", b"]"):
            current = stack.pop() if stack else out
            i += 1
        elif c == b'"':
            j, value = i + 1, b""
            while data[j : j + 1] != b'"':
                if data[j : j + 1] == b"\\":
                    j += 1
                value += data[j : j + 1]
                j += 1
            current.append(("s", value))
            i = j + 1
        elif c == b"{":
            end = data.index(b"}", i)
            size = int(data[i + 1 : end].rstrip(b"+"))
            start = end + 3
            current.append(("s", data[start : start + size]))
            i = start + size
        else:
            j = i
            while j < len(data) and data[j : j + 1] not in (b" ", b"(", b")", b"[", b"]", b"\r", b"\n"):
                j += 1
            atom = data[i:j]
            current.append(None if atom.upper() == b"NIL" else ("a", atom))
            i = j
    return out


def records(path):
    """(command, kind, expected) for each record of an .expected file."""
    data = open(path, "rb").read()
    i, command, result = 0, None, []
    while i < len(data):
        end = data.index(b"\n", i)
        line = data[i:end]
        i = end + 1
        if not line or line.startswith(b"#"):
            continue
        kind, _, rest = line.partition(b" ")
        if kind == b"C":
            size = int(rest)
            command = data[i : i + size]
            i += size + 1
        elif kind in (b"S", b"Z"):
            parts = rest.split(b" ")
            size = int(parts[0])
            expected = data[i : i + size]
            i += size
            result.append([command, kind, expected, parts[1:], None])
        elif kind == b"T" and result and result[-1][0] is command:
            result[-1][4] = completion(rest)
    return result


def completion(text):
    """What of a tagged completion is compared: OK, NO or BAD and the
    [response code], if any (the human text is free-form)."""
    status, _, rest = text.strip().partition(b" ")
    code = rest[: rest.index(b"]") + 1] if rest.startswith(b"[") and b"]" in rest else None
    return status.upper(), code


def main():
    fixtures, user, password = sys.argv[1:4]
    allowed = {}
    if len(sys.argv) > 4:
        for line in open(sys.argv[4], encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                number, command, reason = line.rstrip("\n").split("\t")
                allowed[(number, command)] = reason
    client = Client()
    client.command(b'LOGIN "%s" "%s"' % (user.encode(), password.encode()))
    client.command(b"DELETE golden")
    client.command(b"CREATE golden")
    names = sorted(n for n in os.listdir(fixtures) if n.endswith(".eml"))
    for name in names:
        content = open(os.path.join(fixtures, name), "rb").read()
        _, tagged = client.command(b"APPEND golden %s {%d}\r\n%s" % (INTERNALDATE, len(content), content))
        assert b"OK" in tagged, (name, tagged)
    client.command(b"SELECT golden")
    failures, allowed_hits, total = [], [], 0
    checks = [(n[:2], os.path.join(fixtures, n[:-4] + ".expected")) for n in names]
    checks.append(("search", os.path.join(fixtures, "search.expected")))
    for number, path in checks:
        for command, kind, expected, extra, status in records(path):
            total += 1
            got, tagged = client.command(command)
            # The tagged completion (after the tag) must agree too.
            if status is not None and completion(tagged.partition(b" ")[2]) != status:
                key = (number, command.decode("utf-8", "replace").replace("\r\n", " ") + " (tagged)")
                if key in allowed:
                    allowed_hits.append(key)
                else:
                    failures.append((key, b" ".join(filter(None, status)), b"", tagged))
            if kind == b"Z":
                size, digest = int(extra[0]), extra[1].decode()
                parsed = tokens(got)
                literal = [t for t in flatten(parsed) if isinstance(t, tuple) and t[0] == "s" and len(t[1]) == size]
                same = any(hashlib.sha256(t[1]).hexdigest() == digest for t in literal)
            elif command.startswith(b"SEARCH"):
                same = sorted(got.split()) == sorted(expected.split())
            else:
                same = tokens(got) == tokens(expected)
            if not same:
                key = (number, command.decode("utf-8", "replace").replace("\r\n", " "))
                if key in allowed:
                    allowed_hits.append(key)
                else:
                    failures.append((key, expected[:300], got[:300], tagged))
    for key, expected, got, tagged in failures:
        print("MISMATCH %s %s\n  expected %r\n  got      %r\n  tagged   %r" % (key[0], key[1], expected, got, tagged))
    print("%d checked, %d match, %d allowed differences, %d mismatches" % (total, total - len(failures) - len(allowed_hits), len(allowed_hits), len(failures)))
    sys.exit(1 if failures else 0)


def flatten(tree):
    for item in tree:
        if isinstance(item, list):
            yield from flatten(item)
        else:
            yield item


if __name__ == "__main__":
    main()
