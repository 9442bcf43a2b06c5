#!/usr/bin/env bash
# Accept and deliver on each store, one after the other, in one run:
# SQLite (one node), PostgreSQL with one node, PostgreSQL with two nodes
# sharing the work. The same load each time: postamt-bench's SMTP client,
# 20 sessions reusing their connections (split 10 and 10 over two nodes),
# MESSAGES messages to ten local mailboxes, then waiting until the queue
# has put every one into its mailbox.
#
#   bench/cluster.sh [MESSAGES]
#
# PostgreSQL is Debian's (apt-get install postgresql), a throwaway cluster
# with its default settings (fsync and synchronous_commit on) on a Unix
# socket in a temporary directory. postamt runs with its defaults but the
# pregreet wait (pregreet_wait_ms = 0, as in bench/run-postamt.sh: the
# bench's one client address would otherwise wait 300 ms per session);
# `pregreet_wait_ms=300 bash bench/cluster.sh` runs with that default too.
# Prints, per setup: the accept rate, the accept-and-deliver rate (all
# messages in their mailboxes), each node's peak memory and its
# connections to PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-4000}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}" ${bench_dns_PID:-}; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    [ -n "${pgbin:-}" ] && as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -m fast stop > /dev/null 2>&1 || true
    [ -n "${BENCH_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root: as its own user then.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)
if [ -z "$pgbin" ]; then
    echo "bench/cluster.sh needs PostgreSQL: apt-get install postgresql" >&2
    exit 1
fi
mkdir -p "$work/pg"
[ "$(id -u)" = 0 ] && chown postgres "$work/pg"
as_postgres "$pgbin/initdb" -D "$work/pg/data" --auth=trust --username=postamt --encoding=UTF8 > /dev/null
as_postgres "$pgbin/pg_ctl" -D "$work/pg/data" -l "$work/pg/log" -w \
    -o "-k $work/pg -c listen_addresses=" start > /dev/null
# database NAME: a new database; its connection string in "$url".
database() {
    "$pgbin/createdb" -h "$work/pg" -U postamt "$1"
    url="host=$work/pg user=postamt dbname=$1"
}
psql_bench() { "$pgbin/psql" -X -A -t -h "$work/pg" -U postamt -d postgres -c "$1"; }

cat > "$work/zone" <<ZONE
bench.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.bench.test TXT "v=DMARC1; p=none"
ZONE
coproc bench_dns { exec python3 tests/python/dnsserver.py "$work/zone" /dev/null; }
read -r dns_port <&"${bench_dns[0]}"
password=bench-password

# start_node NAME SMTP_PORT [STORE_URL]: a node with its own directory.
start_node() {
    local name=$1 port=$2 url=${3:-}
    mkdir -p "$work/$name"
    cat > "$work/$name/postamt.toml" <<TOML
hostname = "$name.example.test"
node_id = "$name"
data_dir = "data"
[server]
allow_root = true  # the bench runs as whoever starts it, root in CI
[listen]
smtp = ["127.0.0.1:$port"]
submission = []
submissions = []
pop3 = []
pop3s = []
imap = []
imaps = []
[smtp]
pregreet_wait_ms = ${pregreet_wait_ms:-0}
[dns]
nameservers = ["127.0.0.1:$dns_port"]
[limits]
max_connections_per_address = 200
TOML
    if [ -n "$url" ]; then printf '[store]\nurl = "%s application_name=%s"\n' "$url" "$name" >> "$work/$name/postamt.toml"; fi
    "$bin/postamt" --config "$work/$name/postamt.toml" serve 2> "$work/$name/serve.log" &
    pids+=($!)
    eval "pid_$name=$!"
    for _ in $(seq 300); do grep -q "smtp listening" "$work/$name/serve.log" && return 0; sleep 0.1; done
    echo "node $name did not start:" >&2
    tail -5 "$work/$name/serve.log" >&2
    exit 1
}

add_users() {
    local config=$1
    "$bin/postamt" --config "$config" domain add example.test > /dev/null
    for n in $(seq 0 9); do
        echo "$password" | "$bin/postamt" --config "$config" user add "bench$n@example.test" --password-stdin > /dev/null
    done
}

to=()
for n in $(seq 0 9); do to+=(--to "bench$n@example.test"); done

queue_empty() { [ "$("$bin/postamt" --config "$1" queue list)" = "The queue is empty." ]; }
peak_rss_mb() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# run NAME NODES...: the load over the named nodes (started, with users),
# then the drain; prints the figures.
run() {
    local setup=$1
    shift
    local nodes=("$@") count=$# share=$((messages / $#)) sessions=$((20 / $#))
    local started=$EPOCHREALTIME
    local loads=()
    for node in "${nodes[@]}"; do
        local port
        port=$(grep -o '127.0.0.1:[0-9]*' "$work/$node/postamt.toml" | head -1 | cut -d: -f2)
        "$bin/postamt-bench" smtp --server "127.0.0.1:$port" --sessions "$sessions" --messages "$share" \
            --reuse "${to[@]}" > "$work/$node/load.txt" &
        loads+=($!)
    done
    wait "${loads[@]}"
    local accepted=$EPOCHREALTIME
    for _ in $(seq 30000); do queue_empty "$work/${nodes[0]}/postamt.toml" && break; sleep 0.02; done
    local delivered=$EPOCHREALTIME
    echo "== $setup"
    for node in "${nodes[@]}"; do
        echo "   $node: $(grep '^total' "$work/$node/load.txt" | sed 's/  */ /g')"
        grep -v '^total' "$work/$node/load.txt" | sed 's/^/      /'
    done
    python3 -c "
m, s, a, d = $((share * count)), $started, $accepted, $delivered
print('   accepted  %7.0f msgs/s (%d messages in %.2f s, all nodes)' % (m / (a - s), m, a - s))
print('   delivered %7.0f msgs/s (all in their mailboxes %.2f s after the first was sent)' % (m / (d - s), d - s))"
    for node in "${nodes[@]}"; do
        local pid
        eval "pid=\$pid_$node"
        local connections=""
        if grep -q '^\[store\]' "$work/$node/postamt.toml"; then
            connections=", $(psql_bench "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$node'") connections to PostgreSQL (+1 for the change bus)"
        fi
        echo "   $node: peak memory $(peak_rss_mb "$pid") MB$connections"
    done
}

start_node sqlite 12625
add_users "$work/sqlite/postamt.toml"
run "SQLite, one node" sqlite
kill "$pid_sqlite"

database one
start_node pg1 12626 "$url"
add_users "$work/pg1/postamt.toml"
run "PostgreSQL, one node" pg1
kill "$pid_pg1"

database two
start_node pga 12627 "$url"
start_node pgb 12628 "$url"
add_users "$work/pga/postamt.toml"
run "PostgreSQL, two nodes" pga pgb
