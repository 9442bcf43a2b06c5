#!/usr/bin/env bash
# Starts postamt on local ports with a throwaway data directory and runs
# the SMTP, POP3 and IMAP loads against it. Arguments scale the run:
#   bench/run-postamt.sh [MESSAGES] [IMAP_ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-2000}
rounds=${2:-20}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
source bench/lib/postamt.sh

cpu_before=$(server_cpu_ms)
echo "== SMTP, 20 sessions, connection reused"
$bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" --reuse "${to[@]}"
echo "== SMTP, 20 sessions, a connection per message"
$bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" "${to[@]}"
# Let the queue put everything into the mailboxes before reading them, and
# say how long delivery trailed acceptance.
started=$EPOCHREALTIME
until_true postamt_queue_empty
python3 -c "print('queue drained %.2f s after the last 250' % ($EPOCHREALTIME - $started))"
cpu_used=$(($(server_cpu_ms) - cpu_before))
python3 -c "print('server CPU: %.3f ms per message accepted and delivered' % ($cpu_used / (2 * $messages)))"
echo "== POP3, 10 sessions"
$bin/postamt-bench pop3 --server 127.0.0.1:12995 --tls --sessions 10 --rounds 1 \
    --user 'bench{n}@example.test' --password "$password"
echo "== IMAP, 10 sessions"
$bin/postamt-bench imap --server 127.0.0.1:12993 --tls --sessions 10 --rounds "$rounds" \
    --user 'bench{n}@example.test' --password "$password"
