"""A hostile receiving mail server, for postamt's delivery tests: it never
refuses anything, it is only slow, in one of two ways.

  dribble  sends its greeting one byte every DELAY seconds, forever: each
           read of the client sees progress, the reply never completes.
  slow     answers every command completely, each reply DELAY seconds
           after the command (and accepts every message).

Usage: python3 tarpit.py DIRECTORY MODE DELAY [--address A] [--port P]
Listens on A (default 127.0.0.1) and port P (default: one the system
chooses), prints the port, then serves until its standard input closes.
DIRECTORY/open holds the number of connections open now, and
DIRECTORY/opened the number opened so far."""

import argparse
import os
import socket
import sys
import threading
import time


class Tarpit:
    def __init__(self, directory, mode, delay):
        self.directory = directory
        self.mode = mode
        self.delay = delay
        self.lock = threading.Lock()
        self.open = 0
        self.opened = 0

    def count(self, change):
        with self.lock:
            self.open += change
            if change > 0:
                self.opened += 1
            for name, value in (("open", self.open), ("opened", self.opened)):
                path = os.path.join(self.directory, name)
                with open(path + ".tmp", "w", encoding="utf-8") as f:
                    f.write("%d\n" % value)
                os.replace(path + ".tmp", path)

    def serve(self, conn):
        self.count(+1)
        try:
            if self.mode == "dribble":
                self.dribble(conn)
            else:
                self.slow(conn)
        except OSError:
            pass
        finally:
            conn.close()
            self.count(-1)

    def dribble(self, conn):
        # A greeting made of continuation lines never ends.
        text = b"220-tarpit.test ESMTP\r\n"
        while True:
            for byte in text:
                conn.sendall(bytes([byte]))
                time.sleep(self.delay)

    def slow(self, conn):
        reader = conn.makefile("rb")

        def reply(text):
            time.sleep(self.delay)
            conn.sendall(text + b"\r\n")

        reply(b"220 tarpit.test ESMTP")
        while True:
            line = reader.readline()
            if not line:
                return
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                reply(b"250-tarpit.test\r\n250 8BITMIME")
            elif verb == b"DATA":
                reply(b"354 go ahead")
                while reader.readline() not in (b".\r\n", b""):
                    pass
                reply(b"250 2.0.0 taken, eventually")
            elif verb == b"QUIT":
                reply(b"221 2.0.0 bye")
                return
            else:
                reply(b"250 2.0.0 ok")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("mode", choices=["dribble", "slow"])
    parser.add_argument("delay", type=float)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    tarpit = Tarpit(args.directory, args.mode, args.delay)
    tarpit.count(0)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((args.address, args.port))
    listener.listen(64)

    def accept():
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=tarpit.serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    print(listener.getsockname()[1], flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
