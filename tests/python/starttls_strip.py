"""A man in the middle for postamt's MTA-STS tests: a TCP proxy on
127.0.0.1 (a port chosen by the system) to a mail server on 127.0.0.1:PORT
that removes STARTTLS from the server's EHLO replies, as an attacker
downgrading a connection to plain text would (RFC 8461 §1 names the attack).

Usage: python3 starttls_strip.py PORT LOG
Every line the client sends is appended to LOG (so a test can see that no
message went through in clear). Prints its port, then serves until its
standard input closes."""

import socket
import sys
import threading


class Connection:
    def __init__(self, client, port, log, lock):
        self.client = client
        self.server = socket.create_connection(("127.0.0.1", port))
        self.log = log
        self.lock = lock

    def from_server(self):
        """Passes replies on a line at a time without STARTTLS, holding back
        each `250-` line until the next shows whether it is the last: when
        `250 STARTTLS` ends the reply, the held line ends it instead."""
        held = None
        for line in self.server.makefile("rb"):
            upper = line.upper()
            if upper.startswith(b"250-STARTTLS"):
                continue
            if upper.startswith(b"250 STARTTLS"):
                if held is not None:
                    self.client.sendall(b"250 " + held[4:])
                    held = None
                continue
            if held is not None:
                self.client.sendall(held)
                held = None
            if line.startswith(b"250-"):
                held = line
                continue
            self.client.sendall(line)
        self.client.close()

    def from_client(self):
        for line in self.client.makefile("rb"):
            with self.lock, open(self.log, "ab") as log:
                log.write(line)
            self.server.sendall(line)
        self.server.close()


def main():
    port, log = int(sys.argv[1]), sys.argv[2]
    lock = threading.Lock()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def accept():
        while True:
            client, _ = listener.accept()
            connection = Connection(client, port, log, lock)
            threading.Thread(target=connection.from_server, daemon=True).start()
            threading.Thread(target=connection.from_client, daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(listener.getsockname()[1], flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
