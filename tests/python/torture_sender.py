"""Sends numbered messages to the server until it goes away, printing the
number of every message the server acknowledged with 250, as soon as it
did. Used by the crash torture test: whatever is printed must survive
SIGKILL.

Usage: python3 torture_sender.py FIRST_NUMBER"""

import smtplib
import sys

import mailtest


def main():
    number = int(sys.argv[1])
    try:
        while True:
            client = mailtest.smtp()
            for _ in range(5):
                message = b"Subject: torture %d\r\n\r\n" % number + b"line of text\r\n" * (number % 50)
                client.sendmail("load@other.test", ["alice@example.test", "bob@example.test"], message)
                print(number, flush=True)
                number += 1
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass


if __name__ == "__main__":
    main()
