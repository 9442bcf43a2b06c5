#!/usr/bin/env bash
# Side by side on this machine, in one run: postamt against Postfix (as the
# MTA, delivering to Maildir with its virtual(8) agent) and Dovecot (IMAP
# and POP3 on those Maildirs), under the same loads. Prints every figure
# and the ratio postamt/peer.
#
#   bench/compare.sh [MESSAGES] [IMAP_ROUNDS]
#
# Run it as root on a machine you can spare: it installs Debian's postfix,
# dovecot-imapd and dovecot-pop3d if they are missing and adds a system
# user "vmail" that owns the peers' mailboxes. Both peers run from a
# throwaway directory with their own configuration, queue and ports; the
# system's own Postfix and Dovecot are left stopped. The one change outside
# that directory is Postfix's `alternate_config_directories`, which is how
# Postfix allows a second instance; it is restored on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-4000}
rounds=${2:-20}
size=4096
sessions=20

if [ "$(id -u)" != 0 ]; then
    echo "bench/compare.sh runs Postfix and Dovecot instances and must run as root" >&2
    exit 1
fi
if ! command -v smtp-source > /dev/null; then
    apt-get update -qq # a fresh machine's package lists may name versions gone from the mirror
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix > /dev/null
fi
source bench/lib/dovecot.sh
dovecot_prepare

cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
chmod 755 "$work"
saved_alternates=$(postconf -h alternate_config_directories)
pids=()
cleanup() {
    postfix -c "$work/postfix" stop > /dev/null 2>&1 || true
    dovecot_stop
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    wait 2> /dev/null || true
    postconf -e "alternate_config_directories = $saved_alternates"
    rm -rf "$work"
}
trap cleanup EXIT

# --- postamt -----------------------------------------------------------
source bench/lib/postamt.sh
# The DNS server runs as a coprocess of this shell; the cleanup's `wait`
# would wait for it for ever if it were not stopped too.
pids+=("$server" "$bench_dns_PID")

# --- Postfix -----------------------------------------------------------
# A minimal instance: no chroot, no postscreen, no content filter, the
# virtual(8) agent writing one Maildir per user. Every queue file and
# Maildir file is fsynced, as postamt's blobs and commits are.
mkdir -p "$work/postfix" "$work/postfix-spool" "$work/postfix-data" "$work/maildirs"
chown postfix "$work/postfix-data"
chown vmail:vmail "$work/maildirs"
for user in "${users[@]}"; do
    echo "$user example.test/${user%@*}/"
done > "$work/postfix/vmailbox"
cat > "$work/postfix/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $work/postfix-spool
data_directory = $work/postfix-data
myhostname = peer.bench.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.test
virtual_mailbox_base = $work/maildirs
virtual_mailbox_maps = texthash:$work/postfix/vmailbox
virtual_uid_maps = static:$vmail_uid
virtual_gid_maps = static:$vmail_gid
virtual_minimum_uid = $vmail_uid
maillog_file = $work/postfix.log
maillog_file_prefixes = $work
smtpd_client_connection_count_limit = 0
CF
cat > "$work/postfix/master.cf" <<'CF'
127.0.0.1:22525 inet n - n - - smtpd
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
local     unix  - n n -    - local
virtual   unix  - n n -    - virtual
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
postconf -e "alternate_config_directories = $work/postfix"
# Postfix prints its complaints only to a terminal, so give it one.
script -qec "postfix -c $work/postfix start" /dev/null > "$work/postfix-start.log" || {
    cat "$work/postfix-start.log" >&2
    exit 1
}

# --- Dovecot -----------------------------------------------------------
dovecot_start

wait_for_port() {
    for _ in $(seq 100); do
        (exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null && return 0
        sleep 0.1
    done
    echo "nothing listens on port $1" >&2
    exit 1
}
for port in 12525 12995 12993 22525 22995 22993; do wait_for_port "$port"; done

# --- the loads -----------------------------------------------------------
declare -A figure
now() { echo "$EPOCHREALTIME"; }
rate() { python3 -c "print('%.1f' % ($1 / ($3 - $2)))"; }
# Runs a load, shows its output and keeps it in `$work/last.txt` for the
# figures to be read from.
show() { "$@" > "$work/last.txt"; cat "$work/last.txt"; }
total_rate() { awk '$1 == "total" { rate = $4 } END { print rate }' "$work/last.txt"; }

postfix_delivered() { [ "$(find "$work/maildirs" -path '*/new/*' -type f | wc -l)" -ge "$1" ]; }

delivered=0
# One load against both servers: SMTP load `$1` (a function taking the
# port), then the time until every message sits in a mailbox.
smtp_load() {
    local name=$1 load=$2
    echo "== $name"
    local start
    start=$(now)
    echo "-- postamt"
    show $load 12525
    figure["$name accept postamt"]=$(total_rate)
    until_true postamt_queue_empty
    figure["$name deliver postamt"]=$(rate "$messages" "$start" "$(now)")
    start=$(now)
    echo "-- Postfix"
    show $load 22525
    figure["$name accept Postfix"]=$(total_rate)
    delivered=$((delivered + messages))
    until_true postfix_delivered "$delivered"
    figure["$name deliver Postfix"]=$(rate "$messages" "$start" "$(now)")
}
bench_reused() {
    $bin/postamt-bench smtp --server "127.0.0.1:$1" --sessions $sessions --messages "$messages" \
        --size $size --reuse "${to[@]}"
}
smtp_source() {
    local start
    start=$(now)
    smtp-source -s $sessions -m "$messages" -l $size -f sender@client.test -t bench0@example.test \
        -M client.test "${@:2}" "127.0.0.1:$1"
    echo "total $messages msgs $(rate "$messages" "$start" "$(now)") msgs/s"
}
smtp_source_per_message() { smtp_source "$1"; }
smtp_source_reused() { smtp_source "$1" -d; }

smtp_load "SMTP postamt-bench, reused" bench_reused
smtp_load "smtp-source, a connection each" smtp_source_per_message
smtp_load "smtp-source, reused (-d)" smtp_source_reused

echo "== POP3, 10 sessions over TLS"
for peer in "postamt 12995" "Dovecot 22995"; do
    set -- $peer
    echo "-- $1"
    show $bin/postamt-bench pop3 --server "127.0.0.1:$2" --tls --sessions 10 --rounds 1 \
        --user 'bench{n}@example.test' --password "$password"
    figure["POP3 RETR $1"]=$(awk '$1 == "RETR" { print $4 }' "$work/last.txt")
done
echo "== IMAP, 10 sessions over TLS"
for peer in "postamt 12993" "Dovecot 22993"; do
    set -- $peer
    echo "-- $1"
    show $bin/postamt-bench imap --server "127.0.0.1:$2" --tls --sessions 10 --rounds "$rounds" \
        --user 'bench{n}@example.test' --password "$password"
    figure["IMAP mix $1"]=$(total_rate)
done

echo
echo "== Side by side ($messages messages of $size bytes, $sessions SMTP sessions; rates per second)"
printf '%-48s %10s %10s %8s\n' figure postamt peer ratio
row() {
    local p=${figure["$1 postamt"]} q=${figure["$1 $2"]}
    printf '%-48s %10s %10s %8s\n' "$1 (vs $2)" "$p" "$q" "$(python3 -c "print('%.2f' % ($p / $q))")"
}
for load in "SMTP postamt-bench, reused" "smtp-source, a connection each" "smtp-source, reused (-d)"; do
    row "$load accept" Postfix
    row "$load deliver" Postfix
done
row "POP3 RETR" Dovecot
row "IMAP mix" Dovecot
