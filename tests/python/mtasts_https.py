"""An HTTPS server on 127.0.0.1 (a port chosen by the system) that serves
an MTA-STS policy (RFC 8461 §3.3) for postamt's tests of policy fetching,
and can be told to misbehave the ways the fetch must refuse.

Usage: python3 mtasts_https.py CERT KEY POLICY [--status N] [--location URL]
           [--content-type TYPE] [--delay SECONDS] [--log FILE]
CERT and KEY are PEM files; POLICY is the file whose bytes are served as
the body of every GET (with Content-Length). --status answers with that
status (a 3xx with --location), --content-type with that type instead of
text/plain, --delay waits that long before answering. With --log, each
request's path is appended to FILE as a line before the answer. Prints the
port, then serves until its standard input closes."""

import argparse
import http.server
import ssl
import sys
import threading
import time


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cert")
    parser.add_argument("key")
    parser.add_argument("policy")
    parser.add_argument("--status", type=int, default=200)
    parser.add_argument("--location", default="")
    parser.add_argument("--content-type", default="text/plain")
    parser.add_argument("--delay", type=float, default=0)
    parser.add_argument("--log", default="")
    args = parser.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if args.log:
                with lock, open(args.log, "a", encoding="utf-8") as log:
                    log.write(self.path + "\n")
            time.sleep(args.delay)
            with open(args.policy, "rb") as f:
                body = f.read()
            self.send_response(args.status)
            if args.location:
                self.send_header("Location", args.location)
            self.send_header("Content-Type", args.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A client that refuses our certificate is what some tests
            # want; no traceback for it.
            pass

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    # The handshake happens in each request's thread, not in accept: a
    # client that stalls in it holds up only itself.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.server_address[1], flush=True)
    sys.stdin.read()
    server.shutdown()


if __name__ == "__main__":
    main()
