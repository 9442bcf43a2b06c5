"""An IMAP session over a bare socket that checks every untagged response
it receives against the ordering rules of RFC 3501 and RFC 9051, as a
client that tracks the mailbox would need them to hold:

- a keyword in a FETCH's FLAGS was announced by an untagged FLAGS before
  (RFC 9051 §7.3.5, RFC 3501 §7.2.6), and PERMANENTFLAGS came with it;
- no EXPUNGE while FETCH, STORE or SEARCH runs (RFC 9051 §7.5.1);
- no message number beyond the EXISTS the client was told (§7.4.1);
- EXISTS never shrinks (only EXPUNGE lowers the count, §7.3.1);
- UIDs strictly ascending in the answers to a UID FETCH of a range (that
  asks for RFC822.SIZE, to tell them from updates);
- RECENT never above EXISTS, and lowered when EXPUNGEs take recent
  messages away: at the end of every command the RECENT count the client
  holds is at most its EXISTS (RFC 3501 §7.3.1-7.3.2).

A broken rule is recorded in `violations` with the command and the lines
that led to it; the session goes on, so that a test sees them all."""

import re
import socket

import mailtest

FETCH = re.compile(rb"^\* (\d+) FETCH \((.*)\)\r\n$", re.S)
FLAGS_ITEM = re.compile(rb"FLAGS \(([^)]*)\)")
UID_ITEM = re.compile(rb"UID (\d+)")
NUMBERED = re.compile(rb"^\* (\d+) (EXISTS|RECENT|EXPUNGE)\r\n$")
LITERAL = re.compile(rb"\{(\d+)\}\r\n$")
# Commands during which EXPUNGE may not be sent (RFC 9051 §7.5.1).
NO_EXPUNGE = {b"FETCH", b"STORE", b"SEARCH", b"UID FETCH", b"UID STORE", b"UID SEARCH"}


class Session:
    def __init__(self, user, name="session"):
        self.name = name
        self.sock = socket.create_connection((mailtest.HOST, mailtest.IMAP_PORT), timeout=30)
        self.reader = self.sock.makefile("rb")
        self.tag = 0
        self.exists = 0
        self.recent = 0
        # Announced by FLAGS / PERMANENTFLAGS, lower-cased (keywords compare
        # case-insensitively, RFC 9051 §2.3.2).
        self.flags = set()
        self.permanent = set()
        self.violations = []
        self.log = []
        self.read_line()
        status, _ = self.command(b"LOGIN " + user.encode() + b' "' + mailtest.PASSWORD.encode() + b'"')
        assert status == b"OK", status

    def read_line(self):
        """One response line, literals included."""
        line = self.reader.readline()
        if not line:
            raise ConnectionError(f"{self.name}: connection closed")
        while True:
            literal = LITERAL.search(line)
            if not literal:
                return line
            line += self.reader.read(int(literal.group(1)))
            line += self.reader.readline()

    def violation(self, rule, line, detail=""):
        """`rule` names the rule broken (the same words each time, so that
        a test can count them); `detail` says how."""
        self.violations.append(
            f"{self.name}: {rule}: {detail}{line!r} during {self.running!r}; before: {self.log[-6:]!r}"
        )

    def command(self, line, literal=None):
        """Sends a command (with a LITERAL+ literal, if any); returns the
        tagged status and the untagged lines, each checked as it came."""
        self.tag += 1
        tag = b"t%d" % self.tag
        self.running = line
        words = line.split(b" ")
        name = b" ".join(words[:2]).upper() if words[0].upper() == b"UID" else words[0].upper()
        self.uids = []
        if name in (b"SELECT", b"EXAMINE"):
            self.exists = self.recent = 0
            self.flags, self.permanent = set(), set()
        data = tag + b" " + line
        if literal is not None:
            data += b" {%d+}\r\n" % len(literal) + literal
        self.sock.sendall(data + b"\r\n")
        untagged = []
        while True:
            response = self.read_line()
            self.log.append(response[:200])
            if response.startswith(tag + b" "):
                status = response.split(b" ")[1]
                if self.recent > self.exists:
                    self.violation("RECENT above EXISTS at the end", response, f"{self.recent} > {self.exists}: ")
                return status, untagged
            untagged.append(response)
            self.check(name, response)

    def check(self, command, line):
        numbered = NUMBERED.match(line)
        if numbered:
            n, kind = int(numbered.group(1)), numbered.group(2)
            if kind == b"EXISTS":
                if n < self.exists:
                    self.violation("EXISTS shrank", line, f"from {self.exists}: ")
                self.exists = n
            elif kind == b"RECENT":
                if n > self.exists:
                    self.violation("RECENT above EXISTS", line, f"EXISTS {self.exists}: ")
                self.recent = n
            else:
                if command in NO_EXPUNGE:
                    self.violation("EXPUNGE during FETCH, STORE or SEARCH", line)
                if not 1 <= n <= self.exists:
                    self.violation("EXPUNGE beyond EXISTS", line, f"EXISTS {self.exists}: ")
                self.exists -= 1
            return
        if line.startswith(b"* FLAGS ("):
            self.flags = {f.lower() for f in line[9 : line.rindex(b")")].split()}
            return
        if line.startswith(b"* OK [PERMANENTFLAGS ("):
            inside = line[len(b"* OK [PERMANENTFLAGS (") :]
            self.permanent = {f.lower() for f in inside[: inside.index(b")")].split()}
            return
        fetch = FETCH.match(line)
        if fetch:
            n, items = int(fetch.group(1)), fetch.group(2)
            if not 1 <= n <= self.exists:
                self.violation("FETCH beyond EXISTS", line, f"EXISTS {self.exists}: ")
            flags = FLAGS_ITEM.search(items)
            if flags:
                for flag in flags.group(1).split():
                    if flag.startswith(b"\\"):
                        continue
                    if flag.lower() not in self.flags:
                        self.violation("keyword before its FLAGS", line)
                    elif self.permanent and b"\\*" in self.permanent and flag.lower() not in self.permanent:
                        self.violation("keyword before its PERMANENTFLAGS", line)
            # Only the answers themselves: they ask for RFC822.SIZE, the
            # updates about others' changes that may follow do not.
            uid = UID_ITEM.search(items)
            if uid and command == b"UID FETCH" and b"RFC822.SIZE" in items:
                uid = int(uid.group(1))
                if self.uids and uid <= self.uids[-1]:
                    self.violation("UIDs not ascending", line, f"after UID {self.uids[-1]}: ")
                self.uids.append(uid)

    def logout(self):
        self.command(b"LOGOUT")
        self.sock.close()
