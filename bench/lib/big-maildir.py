#!/usr/bin/env python3
"""Writes a Maildir INBOX of COUNT messages of about 2 KiB for
bench/imap-big.sh, the same for every server measured:

    big-maildir.py DIR COUNT

Messages come in threads (Message-ID, In-Reply-To, References; subjects
with "Re:"/"Fwd:" prefixes and list tags, as RFC 5256's base subject
strips them), from 300 senders with display names, dated over three
years and not in arrival order (so SORT by DATE differs from ARRIVAL),
80 % seen, 5 % flagged. One message in a hundred holds the word
"zeppelin" in its body (for SEARCH TEXT). Deterministic: the same COUNT
gives the same Maildir. File mtimes are the internal dates.
"""

import os
import random
import sys
import time

WORDS = (
    "mail server queue message folder account delivery report meeting "
    "project budget invoice schedule review draft release network storage "
    "backup archive holiday travel weather garden kitchen library concert "
    "question answer reminder update change status ticket customer order"
).split()
TOPICS = [
    "Quarterly report", "Lunch on Friday", "Server migration", "Invoice 2024-%d",
    "Holiday plans", "Build failure on main", "Welcome aboard", "Meeting notes %d",
    "Release %d.0 checklist", "Garden party", "Budget review", "Password reset",
]
PREFIXES = ["", "", "Re: ", "RE: ", "Fwd: ", "Re: Re: ", "[team] ", "[team] Re: "]


def main():
    directory, count = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261201)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(directory, sub), exist_ok=True)
    senders = [(f"Person {n}", f"person{n}@example.net") for n in range(300)]
    start = int(time.mktime((2023, 1, 1, 0, 0, 0, 0, 0, -1)))
    threads = []  # (subject, [message ids])
    arrival = start
    for n in range(count):
        if threads and rng.random() < 0.6:
            subject, ids = rng.choice(threads[-500:])
        else:
            topic = rng.choice(TOPICS)
            subject = topic % rng.randrange(100) if "%d" in topic else topic
            ids = []
            threads.append((subject, ids))
        message_id = f"<{n}.{rng.randrange(10**9)}@example.net>"
        name, address = rng.choice(senders)
        # Written any time in the three years; arrival only goes forward.
        written = start + rng.randrange(3 * 365 * 86400)
        arrival += rng.randrange(1, 900)
        headers = [
            f"From: \"{name}\" <{address}>",
            "To: bench0@example.test",
            f"Subject: {rng.choice(PREFIXES) if ids else ''}{subject}",
            "Date: " + time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(written)),
            f"Message-ID: {message_id}",
        ]
        if rng.random() < 0.2:
            headers.append(f"Cc: {senders[(n * 7) % 300][1]}")
        if ids:
            parent = rng.choice(ids)
            headers.append(f"In-Reply-To: {parent}")
            headers.append("References: " + " ".join(ids[-5:]))
        ids.append(message_id)
        body = []
        while sum(len(line) + 2 for line in body) < 1700:
            body.append(" ".join(rng.choice(WORDS) for _ in range(10)))
        if n % 100 == 42:
            body.insert(3, "the zeppelin arrives at noon")
        content = ("\r\n".join(headers + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=us-ascii", ""] + body)
                   + "\r\n").encode()
        flags = ""
        if rng.random() < 0.05:
            flags += "F"
        if rng.random() < 0.8:
            flags += "S"
        path = os.path.join(directory, "cur", f"{arrival}.M{n}P1.bench,S={len(content)}:2,{flags}")
        with open(path, "wb") as f:
            f.write(content)
        os.utime(path, (arrival, arrival))


if __name__ == "__main__":
    main()
