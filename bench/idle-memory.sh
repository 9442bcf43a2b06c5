#!/usr/bin/env bash
# Server memory for many idle IMAP sessions: logs in SESSIONS sessions over
# TLS (spread over ten accounts), selects INBOX and enters IDLE in each, as
# open mail clients do, then reads the server's resident memory (VmRSS).
#
#   bench/idle-memory.sh [SESSIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-10000}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
trap 'exec 3>&- 2> /dev/null; kill "$server" 2> /dev/null; wait "$server" 2> /dev/null; rm -rf "$work"' EXIT
# Every session is a descriptor on each end of the loopback.
ulimit -n "$(ulimit -Hn)"
max_connections=$((sessions + 100))
extra_config="[imap]
max_sessions_per_user = $sessions"
source bench/lib/postamt.sh
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
start=$(rss_kib)
echo "server RSS at start: $start KiB"
# The holder keeps its sessions until its standard input (fd 3) closes.
exec 3> >($bin/postamt-bench hold --server 127.0.0.1:12993 --tls --sessions "$sessions" ${hold_options:-} \
    --user 'bench{n}@example.test' --password "$password" > "$work/hold.log" 2>&1)
started=$EPOCHREALTIME
until grep -q "^holding" "$work/hold.log"; do
    if grep -q "Error" "$work/hold.log"; then cat "$work/hold.log" >&2; exit 1; fi
    sleep 0.5
done
held=$(rss_kib)
python3 -c "print('%d sessions logged in, in IDLE, after %.0f s' % ($sessions, $EPOCHREALTIME - $started))"
echo "server RSS with them: $held KiB ($(( (held - start) / sessions )) KiB per session beyond the start)"
exec 3>&-
