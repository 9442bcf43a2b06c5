#!/usr/bin/env bash
# Where postamt spends its time under one load: records the server with
# `perf record` (call graphs, CPU-clock sampling, which works on machines
# without hardware counters too) while postamt-bench runs, then prints the
# hottest functions.
#
#   bench/profile.sh smtp|deliver|connect|imap|pop3 [MESSAGES]
#
# smtp: acceptance only, 20 sessions. deliver: acceptance and delivery until
# the queue is empty. connect: the same with a connection per message.
# imap, pop3: the mailbox loads, after MESSAGES have been delivered into ten
# mailboxes. The recording stays in bench/perf.data
# (ignored by git) for `perf report -i bench/perf.data`.
set -euo pipefail
cd "$(dirname "$0")/.."
load=${1:?"say which load: smtp, deliver, connect, imap or pop3"}
messages=${2:-4000}
command -v perf > /dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q linux-perf > /dev/null
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
source bench/lib/postamt.sh

smtp() {
    $bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" "$@" "${to[@]}"
}
record() {
    perf record -e cpu-clock -F 999 -g -o bench/perf.data -p "$server" 2> /dev/null &
    local recorder=$!
    sleep 0.5 # perf attaches
    "$@"
    kill -INT "$recorder"
    wait "$recorder" || true
}
case $load in
    smtp) record smtp --reuse ;;
    deliver) record eval 'smtp --reuse && until_true postamt_queue_empty' ;;
    connect) record eval 'smtp && until_true postamt_queue_empty' ;;
    imap | pop3)
        smtp --reuse > /dev/null
        until_true postamt_queue_empty
        port=12993
        [ "$load" = pop3 ] && port=12995
        record $bin/postamt-bench "$load" --server "127.0.0.1:$port" --tls --sessions 10 --rounds 20 \
            --user 'bench{n}@example.test' --password "$password"
        ;;
    *) echo "unknown load $load: say smtp, deliver, connect, imap or pop3" >&2; exit 1 ;;
esac
perf report -i bench/perf.data --no-children --percent-limit 1.5 --stdio -g none 2> /dev/null | grep -v '^#' | grep -v '^$' | head -40
