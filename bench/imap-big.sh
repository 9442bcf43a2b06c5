#!/usr/bin/env bash
# IMAP on one big mailbox: MESSAGES messages (100 000 unless given) of
# about 2 KiB in INBOX, postamt beside Dovecot in one run on the same
# messages. Times, one by one in one session, what a resynchronising
# client and a webmail send (SELECT, FETCH of all flags, CHANGEDSINCE
# after 10 changes, SEARCH, SORT, THREAD, EXPUNGE of 1 000), then the
# memory a selected session costs per message.
#
#   bench/imap-big.sh [MESSAGES]
#
# Run it as root on a machine you can spare: it installs Debian's
# dovecot-imapd if missing and adds the system user "vmail" (see
# bench/lib/dovecot.sh). The messages come from bench/lib/big-maildir.py;
# postamt gets them with `postamt import maildir`, Dovecot reads the same
# Maildir. Both run with their default settings.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-100000}
repeat=${REPEAT:-5}

if [ "$(id -u)" != 0 ]; then
    echo "bench/imap-big.sh runs a Dovecot instance and must run as root" >&2
    exit 1
fi
source bench/lib/dovecot.sh
dovecot_prepare

cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    exec 3>&- 2> /dev/null || true
    dovecot_stop
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== writing $messages messages"
python3 bench/lib/big-maildir.py "$work/source" "$messages"

# --- postamt -----------------------------------------------------------
source bench/lib/postamt.sh
pids+=("$server" "$bench_dns_PID")
started=$EPOCHREALTIME
"$bin/postamt" import maildir "$work/source" --user bench0@example.test
python3 -c "print('postamt imported them in %.0f s' % ($EPOCHREALTIME - $started))"

# --- Dovecot -----------------------------------------------------------
mkdir -p "$work/maildirs/example.test"
cp -a "$work/source" "$work/maildirs/example.test/bench0"
chown -R vmail:vmail "$work/maildirs"
dovecot_start
for _ in $(seq 100); do (exec 3<> /dev/tcp/127.0.0.1/22993) 2> /dev/null && break; sleep 0.1; done

# --- the commands --------------------------------------------------------
# Ten single changes, as another device makes them, spread over the
# mailbox; then what changed since the mark before them.
changes=()
for n in $(seq 1 10); do
    changes+=(--step "run:STORE $((n * messages / 11)) +FLAGS.SILENT (\\Flagged)")
done
steps=(
    --step "time:SELECT INBOX"
    --step "time:FETCH 1:* (UID FLAGS)"
    --step "mark:STATUS INBOX (HIGHESTMODSEQ)"
    "${changes[@]}"
    --step "time:UID FETCH 1:* (FLAGS) (CHANGEDSINCE {mark})"
    --step "time:SEARCH UNSEEN"
    --step "time:SEARCH TEXT zeppelin"
    --step "time:SORT (REVERSE DATE) UTF-8 ALL"
    --step "time:THREAD REFERENCES UTF-8 ALL"
    --step "run:STORE 1:1000 +FLAGS.SILENT (\\Deleted)"
    --step "once:EXPUNGE"
)
for peer in "postamt 12993" "Dovecot 22993"; do
    set -- $peer
    echo "== $1 (each time: step $repeat runs)"
    "$bin/postamt-bench" steps --server "127.0.0.1:$2" --tls --user bench0@example.test \
        --password "$password" --repeat "$repeat" "${steps[@]}" | tee "$work/steps-$1"
done

# --- memory per selected session ------------------------------------------
# Eight sessions (Dovecot allows ten per user and address) hold INBOX
# selected. postamt: the growth of its resident memory; Dovecot: the
# private memory of its imap processes (one per session), both divided by
# the sessions and the messages.
sessions=8
private_kib() { awk '/^Private_(Clean|Dirty)/ { sum += $2 } END { print sum + 0 }' "/proc/$1/smaps_rollup"; }
dovecot_sessions_kib() {
    local sum=0
    for pid in $(pgrep -u vmail -x imap); do sum=$((sum + $(private_kib "$pid"))); done
    echo "$sum"
}
hold() {
    exec 3> >("$bin/postamt-bench" hold --server "127.0.0.1:$1" --tls --sessions $sessions --accounts 1 \
        --user bench0@example.test --password "$password" > "$work/hold.log" 2>&1)
    until grep -q "^holding" "$work/hold.log"; do
        if grep -q "Error" "$work/hold.log"; then cat "$work/hold.log" >&2; exit 1; fi
        sleep 0.2
    done
}
unhold() { exec 3>&-; until ! pgrep -f "postamt-bench hold" > /dev/null; do sleep 0.1; done; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$server/status"; }
left=$((messages - 1000))
before=$(rss_kib)
hold 12993
postamt_kib=$(($(rss_kib) - before))
unhold
hold 22993
dovecot_kib=$(dovecot_sessions_kib)
unhold
per_message() { python3 -c "print('%.1f' % ($1 * 1024 / $sessions / $left))"; }
echo "== memory per selected session ($sessions sessions, $left messages)"
echo "postamt: $((postamt_kib / sessions)) KiB per session, $(per_message "$postamt_kib") bytes per message"
echo "Dovecot: $((dovecot_kib / sessions)) KiB per session, $(per_message "$dovecot_kib") bytes per message"

# --- side by side ---------------------------------------------------------
echo
echo "== Side by side, median ms ($messages messages; lower is better)"
python3 - "$work/steps-postamt" "$work/steps-Dovecot" <<'PY'
import sys
def table(path):
    rows = {}
    for line in open(path).read().splitlines()[1:]:
        command = line[:48].rstrip()
        rest = line[48:].split()
        rows[command] = rest[2] if rest and rest[0] != "refused:" else "refused"
    return rows
ours, theirs = table(sys.argv[1]), table(sys.argv[2])
print("%-48s %10s %10s %8s" % ("step", "postamt", "Dovecot", "ratio"))
for command, p in ours.items():
    q = theirs.get(command, "-")
    try:
        ratio = "%.2f" % (float(p) / float(q))
    except ValueError:
        ratio = "-"
    print("%-48s %10s %10s %8s" % (command, p, q, ratio))
PY
