"""Sends numbered messages to the server until it goes away, printing the
number of every message the server acknowledged with 250, as soon as it
did. Used by the crash torture test: whatever is printed must survive
SIGKILL, with exactly the content `message(number)` gives.

Sizes are mixed so that the kill finds the server in either way of
storing content: most messages are small (kept in the database), some
are above the 64 KiB inline limit (blob files: written, fsynced, renamed,
directory fsynced), and some are near the size limit the test configures
(MAX_MESSAGE_SIZE).

Losing the connection is what the kill looks like; the sender then prints
`lost` and ends. Any 4xx or 5xx reply is not: it prints
`refused CODE TEXT` and ends with status 1, for the test to fail on.

Usage: python3 torture_sender.py FIRST_NUMBER"""

import hashlib
import os
import smtplib
import sys

import mailtest

MAX_MESSAGE_SIZE = int(os.environ.get("MAX_MESSAGE_SIZE", str(1024 * 1024)))
INLINE_LIMIT = 64 * 1024
RECIPIENTS = ["alice@example.test", "bob@example.test"]


def size(number):
    """Seven in ten small, two above the inline limit, one near the size
    limit (leaving room for the headers the server adds)."""
    kind = number % 10
    if kind < 7:
        return 200 + (number * 37) % 1500
    if kind < 9:
        return INLINE_LIMIT + 1 + (number * 7919) % (256 * 1024)
    return MAX_MESSAGE_SIZE - 4096 - number % 1024


def message(number):
    """The message numbered `number`, always the same bytes: CRLF line
    endings, no line starting with a dot, content unique to the number."""
    head = b"Subject: torture %d\r\n\r\n" % number
    line = b"%010d torture line of text, unique to its message\r\n" % number
    wanted = size(number) - len(head)
    body = line * (wanted // len(line))
    return head + body + b"x" * (wanted - len(body) - 2) + b"\r\n"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def main():
    number = int(sys.argv[1])
    try:
        while True:
            client = mailtest.smtp()
            for _ in range(5):
                refused = client.sendmail("load@other.test", RECIPIENTS, message(number))
                if refused:
                    print("refused", refused, flush=True)
                    sys.exit(1)
                print(number, flush=True)
                number += 1
            client.quit()
    except smtplib.SMTPResponseException as e:
        print("refused", e.smtp_code, e.smtp_error, flush=True)
        sys.exit(1)
    except smtplib.SMTPRecipientsRefused as e:
        print("refused", e.recipients, flush=True)
        sys.exit(1)
    except (smtplib.SMTPServerDisconnected, OSError):
        print("lost", flush=True)


if __name__ == "__main__":
    main()
