#!/usr/bin/env bash
# Memory for one large message (issue 7: it must stream, not be held whole
# more than once): sends a MEGABYTES message over SMTP, lets the queue
# deliver it, fetches it over IMAP (BODY[]) and POP3 (RETR), and prints the
# server's peak resident memory during each step (VmHWM, reset between
# steps through /proc/PID/clear_refs).
#
#   bench/large-message.sh [MEGABYTES]
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes=${1:-50}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
trap 'kill "$server" 2> /dev/null; wait "$server" 2> /dev/null; rm -rf "$work"' EXIT
max_message_size=$(((megabytes + 10) * 1024 * 1024))
extra_config="[imap]
max_literal = $max_message_size"
source bench/lib/postamt.sh
peak() { awk '/^VmHWM/ { print int($2 / 1024) }' "/proc/$server/status"; }
reset_peak() { echo 5 > "/proc/$server/clear_refs"; }
step() {
    reset_peak
    local before
    before=$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$server/status")
    "$@"
    echo "  server resident memory: $before MB before, peak $(peak) MB during"
}
export MEGABYTES=$megabytes PASSWORD=$password
echo "== SMTP: one $megabytes MB message to bench0"
step python3 - <<'PY'
import os, smtplib
line = b"x" * 998 + b"\r\n"
body = line * (int(os.environ["MEGABYTES"]) * 1024 * 1024 // len(line))
message = b"From: big@client.test\r\nTo: bench0@example.test\r\nSubject: large\r\n\r\n" + body
with smtplib.SMTP("127.0.0.1", 12525) as smtp:
    smtp.sendmail("big@client.test", ["bench0@example.test"], message)
PY
echo "== queue: delivering it"
step until_true postamt_queue_empty
echo "== IMAP: FETCH 1 BODY[]"
step python3 - <<'PY'
import imaplib, os, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
imap = imaplib.IMAP4_SSL("127.0.0.1", 12993, ssl_context=context)
imap.login("bench0@example.test", os.environ["PASSWORD"])
imap.select("INBOX")
typ, data = imap.fetch("1", "(BODY.PEEK[])")
assert typ == "OK" and len(data[0][1]) > int(os.environ["MEGABYTES"]) * 1000 * 1000, typ
imap.logout()
PY
echo "== POP3: RETR 1"
step python3 - <<'PY'
import os, poplib, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
pop = poplib.POP3_SSL("127.0.0.1", 12995, context=context)
pop.user("bench0@example.test")
pop.pass_(os.environ["PASSWORD"])
response, lines, octets = pop.retr(1)
assert octets > int(os.environ["MEGABYTES"]) * 1000 * 1000, octets
pop.quit()
PY
