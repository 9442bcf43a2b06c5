#!/usr/bin/env bash
# The accept rate of port 25 with the inbound checks (issue 16) on and
# off, for unsigned and for DKIM-signed messages, with a warm DNS cache:
#   bench/auth-checks.sh [MESSAGES] [ROUNDS]
# The signed messages are signed once before the run by an independent
# signer (dkimpy, bench/lib/dkim-messages.py) with keys published in the
# bench's DNS zone, so that verification runs and passes: before the
# loads, one message of each kind goes through and its
# Authentication-Results is checked (dkim=pass, dmarc=pass). ROUNDS
# alternate a server with the checks on (the default) and one with them
# off (`[auth_checks] enabled = false`), each with a fresh data directory;
# a table of the figures' ranges follows (bench/lib/auth-summary.py).
# Then the cost of postamt's own DKIM signing (`postamt-bench sign`).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-4000}
rounds=${2:-3}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
messages_dir=$(mktemp -d)
trap 'rm -rf "$messages_dir"' EXIT
# The client says EHLO with a host name that has an address but no SPF
# record, as most sending hosts do: the HELO identity's SPF check (RFC
# 7208 §2.3) then gets an empty answer, kept by the negative cache.
extra_zone="$(python3 bench/lib/dkim-messages.py "$messages_dir" 4096)
mail.bench.test A 127.0.0.1"

# The Authentication-Results field of the newest message of bench0, read
# over POP3 (TLS, the bench's self-signed certificate).
newest_results() {
    python3 - <<'PY'
import poplib, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
pop = poplib.POP3_SSL("127.0.0.1", 12995, context=context)
pop.user("bench0@example.test")
pop.pass_("bench-password")
count = pop.stat()[0]
lines = pop.retr(count)[1] if count else []
pop.quit()
header = b"\r\n".join(lines).split(b"\r\n\r\n")[0].decode().replace("\r\n\t", " ").replace("\r\n ", " ")
print(" ".join(f for f in header.split("\r\n") if f.startswith("Authentication-Results:")))
PY
}

# Sends one message of a kind to bench0 and prints what the checks said.
results_of() {
    "$bin/postamt-bench" smtp --server 127.0.0.1:12525 --sessions 1 --messages 1 \
        --message "$messages_dir/$1.eml" --helo mail.bench.test --to bench0@example.test > /dev/null
    until_true postamt_queue_empty
    newest_results
}

# One server, with the checks on or off: the loads, their rates, and the
# server's CPU time per message accepted and delivered.
measure() (
    checks=$1
    work=$(mktemp -d)
    trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
    if [ "$checks" = off ]; then
        extra_config=$'[auth_checks]\nenabled = false'
    fi
    source bench/lib/postamt.sh
    for kind in unsigned rsa both; do
        results=$(results_of "$kind")
        echo "checks $checks, $kind: ${results:-no Authentication-Results}"
        case "$checks $kind" in
            "on unsigned") [[ $results != *"dkim="* && $results == *"dmarc=pass"* ]] ;;
            on*) [[ $results == *"dkim=pass"* && $results == *"dmarc=pass"* && $results != *"dkim=fail"* ]] ;;
            off*) [ -z "$results" ] ;;
        esac || { echo "unexpected Authentication-Results for $kind with checks $checks" >&2; exit 1; }
    done
    queries_before=$(dns_queries)
    for reuse in --reuse ""; do
        connections="a connection per message"
        [ -n "$reuse" ] && connections="connections reused"
        for kind in unsigned rsa both; do
            echo "== checks $checks, $kind, 20 sessions, $connections"
            cpu_before=$(server_cpu_ms)
            "$bin/postamt-bench" smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" $reuse \
                --message "$messages_dir/$kind.eml" --helo mail.bench.test "${to[@]}" | grep -v '^total'
            until_true postamt_queue_empty
            cpu_used=$(($(server_cpu_ms) - cpu_before))
            python3 -c "print('server CPU: %.3f ms per message accepted and delivered' % ($cpu_used / $messages))"
        done
    done
    # The loads ran with a warm DNS cache if they asked (next to) nothing.
    echo "DNS questions during the loads with the checks $checks: $(($(dns_queries) - queries_before))"
)

for round in $(seq "$rounds"); do
    echo "#### round $round"
    measure on
    measure off
done | tee "$messages_dir/log"
echo "#### the rounds in short (rate lost from the medians; CPU: postamt's, per message accepted and delivered)"
python3 bench/lib/auth-summary.py < "$messages_dir/log"
echo "#### postamt's own DKIM signing"
"$bin/postamt-bench" sign --messages $((messages / 4 + 10))
