#!/usr/bin/env bash
# Starts postamt on local ports with a throwaway data directory and runs
# the SMTP, POP3 and IMAP loads against it. Arguments scale the run:
#   bench/run-postamt.sh [MESSAGES] [IMAP_ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-2000}
rounds=${2:-20}
cargo build --release --quiet -p postamt -p postamt-bench
bin=target/release
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
cat > "$work/postamt.toml" <<TOML
hostname = "bench.example.test"
data_dir = "data"
[listen]
smtp = ["127.0.0.1:12525"]
submission = []
submissions = []
pop3 = []
pop3s = ["127.0.0.1:12995"]
imap = []
imaps = ["127.0.0.1:12993"]
[smtp]
pregreet_wait_ms = 0              # measure the server, not the anti-spam pause
[limits]
max_connections_per_address = 200
TOML
export POSTAMT_CONFIG="$work/postamt.toml"
$bin/postamt domain add example.test > /dev/null
to=()
for n in $(seq 0 9); do
    echo bench-password | $bin/postamt user add "bench$n@example.test" --password-stdin > /dev/null
    to+=(--to "bench$n@example.test")
done
$bin/postamt serve 2> "$work/serve.log" &
server=$!
for _ in $(seq 50); do grep -q "imaps listening" "$work/serve.log" && break; sleep 0.1; done

echo "== SMTP, 20 sessions, connection reused"
$bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" --reuse "${to[@]}"
echo "== SMTP, 20 sessions, a connection per message"
$bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" "${to[@]}"
# Let the queue put everything into the mailboxes before reading them, and
# say how long delivery trailed acceptance.
started=$EPOCHREALTIME
for _ in $(seq 600); do [ "$($bin/postamt queue list)" = "The queue is empty." ] && break; sleep 0.1; done
python3 -c "print('queue drained %.2f s after the last 250' % ($EPOCHREALTIME - $started))"
echo "== POP3, 10 sessions"
$bin/postamt-bench pop3 --server 127.0.0.1:12995 --tls --sessions 10 --rounds 1 \
    --user 'bench{n}@example.test' --password bench-password
echo "== IMAP, 10 sessions"
$bin/postamt-bench imap --server 127.0.0.1:12993 --tls --sessions 10 --rounds "$rounds" \
    --user 'bench{n}@example.test' --password bench-password
