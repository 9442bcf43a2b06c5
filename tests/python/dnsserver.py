"""A real DNS server for postamt's tests, on 127.0.0.1 (UDP and TCP, one
port chosen by the system). Its zone is a file of lines `NAME TYPE VALUE`:

    example.test      MX  10 mx1.example.test
    mx1.example.test  A   127.0.0.5
    nullmx.test       MX  0 .

A name that appears nowhere is answered NXDOMAIN; a name that exists
without records of the asked type gets an empty NOERROR answer; a line
`NAME SERVFAIL -` makes every question about NAME fail with SERVFAIL;
a line `NAME SILENT -` leaves every question about NAME unanswered (a
server that has gone quiet). An SOA line makes NAME a zone apex: the
negative answers (NXDOMAIN, empty NOERROR) for names in that zone then
carry the SOA in their authority section, as an authoritative server's
do (RFC 2308 §3), which is what resolvers take their negative TTL from.

Usage: python3 dnsserver.py ZONEFILE [QUERYLOG]. Prints the port, then
serves until its standard input closes (so it ends with the test that
started it). With QUERYLOG, every question is appended to that file as a
line `NAME TYPE` before it is answered (so a test can count what a
resolver asked, and what it answered from its cache)."""

import sys
import threading
import time

from dnslib import QTYPE, RCODE, RR, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, path, log_path=None):
        self.log = open(log_path, "a", encoding="utf-8") if log_path else None
        self.log_lock = threading.Lock()
        self.records = []
        self.failing = set()
        self.silent = set()
        for line in open(path, encoding="utf-8"):
            line = line.strip()
            if line and not line.startswith("#"):
                name, kind, value = line.split(None, 2)
                name = name.lower().rstrip(".")
                if kind == "SERVFAIL":
                    self.failing.add(name)
                    continue
                if kind == "SILENT":
                    self.silent.add(name)
                    continue
                rr = RR.fromZone(f"{name}. 60 IN {kind} {value}")[0]
                self.records.append((name, rr))

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).lower().rstrip(".")
        if self.log:
            # Each request has its own thread: one line at a time, and on
            # disk before the answer leaves.
            with self.log_lock:
                self.log.write(f"{name} {QTYPE[request.q.qtype]}\n")
                self.log.flush()
        if name in self.silent:
            # Each request has its own (daemon) thread: holding this one
            # holds only this answer.
            time.sleep(3600)
        if name in self.failing:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        matching = [rr for owner, rr in self.records if owner == name]
        if not matching:
            reply.header.rcode = RCODE.NXDOMAIN
        for rr in matching:
            if request.q.qtype in (rr.rtype, QTYPE.ANY):
                reply.add_answer(rr)
        if not reply.rr:
            soa = self.soa_of(name)
            if soa:
                reply.add_auth(soa)
        return reply

    def soa_of(self, name):
        """The SOA record of the zone NAME is in, if the zone has one."""
        for owner, rr in self.records:
            if rr.rtype == QTYPE.SOA and (name == owner or name.endswith("." + owner)):
                return rr
        return None


class Handler(DNSHandler):
    """Answers over UDP that do not fit 512 bytes go out truncated (TC),
    so the client asks again over TCP (RFC 1035 §4.2.1), as with real
    servers; dnslib would otherwise send them whole (and its own
    truncation drops the question, which resolvers refuse)."""

    def get_reply(self, data):
        if self.protocol != "udp":
            return super().get_reply(data)
        request = DNSRecord.parse(data)
        reply = self.server.resolver.resolve(request, self)
        packed = reply.pack()
        if len(packed) > 512:
            short = request.reply()
            short.header.tc = 1
            packed = short.pack()
        return packed


class Quiet:
    """dnslib logs every request to stdout, which only carries the port."""

    def __getattr__(self, name):
        return lambda *args: None


def main():
    resolver = ZoneResolver(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
    # The system picks a free UDP port; the same TCP port may be taken by
    # someone else, so try again until both are ours.
    for _ in range(100):
        udp = DNSServer(resolver, address="127.0.0.1", port=0, logger=Quiet(), handler=Handler)
        port = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=Quiet(), handler=Handler)
            break
        except OSError:
            udp.server.server_close()
    else:
        raise SystemExit("no port free for both UDP and TCP")
    udp.start_thread()
    tcp.start_thread()
    print(port, flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
