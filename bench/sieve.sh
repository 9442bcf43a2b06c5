#!/usr/bin/env bash
# The cost of Sieve at delivery: accept-and-deliver with no script, then
# with a 50-rule script active for every recipient (the rules test
# headers, addresses, the size and the body as users' filters do; none
# matches the bench's messages, so every rule runs), in one run.
#
#   bench/sieve.sh [MESSAGES]
#
# postamt runs with its defaults but the pregreet wait (off, as in
# bench/run-postamt.sh). Prints, per setup, postamt-bench's accept rate,
# the accept-and-deliver rate (every message in its mailbox) and the
# server's CPU time per message; then the script's cost in percent.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-4000}
cargo build --release --quiet -p postamt -p postamt-bench
bin=$PWD/target/release
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$work"' EXIT
source bench/lib/postamt.sh

# Fifty rules: lists into folders, senders flagged, big mail set aside,
# words in the body, a vacation that never applies (not addressed by
# name). The bench's messages match none of them.
{
    echo 'require ["fileinto", "imap4flags", "body", "relational", "comparator-i;ascii-numeric", "variables", "vacation"];'
    for n in $(seq 1 20); do
        echo "if header :contains \"list-id\" \"list$n.example.net\" { fileinto \"Lists/list$n\"; stop; }"
    done
    for n in $(seq 1 15); do
        echo "if address :domain :is \"from\" \"sender$n.example.net\" { addflag \"\\\\Flagged\"; }"
    done
    for n in $(seq 1 5); do
        echo "if header :matches \"subject\" \"*[project$n]*\" { fileinto \"Projects/\${2}\"; }"
    done
    echo 'if size :over 20M { fileinto "Big"; }'
    echo 'if header :value "ge" :comparator "i;ascii-numeric" "X-Spam-Score" "10" { fileinto "Junk"; stop; }'
    for word in invoice receipt unsubscribe webinar lottery winner; do
        echo "if body :text :contains \"$word-$RANDOM\" { fileinto \"Words\"; }"
    done
    echo 'if address :is "to" "nobody@example.test" { vacation "away"; }'
    echo 'if exists "X-Never-There" { discard; }'
    echo 'keep;'
} > "$work/rules.sieve"
echo "$(grep -c '^if' "$work/rules.sieve") rules"

run() {
    local cpu_before started
    cpu_before=$(server_cpu_ms)
    started=$EPOCHREALTIME
    $bin/postamt-bench smtp --server 127.0.0.1:12525 --sessions 20 --messages "$messages" --reuse "${to[@]}"
    until_true postamt_queue_empty
    python3 -c "print('accepted and delivered: %.0f messages/s' % ($messages / ($EPOCHREALTIME - $started)))"
    python3 -c "print('server CPU: %.3f ms per message' % (($(server_cpu_ms) - $cpu_before) / $messages))"
}

echo "== no script"
run | tee "$work/plain"
for user in "${users[@]}"; do
    "$bin/postamt" sieve put "$user" rules "$work/rules.sieve" --activate > /dev/null
done
echo "== 50-rule script for every recipient"
run | tee "$work/rules"
python3 - "$work/plain" "$work/rules" <<'PY'
import re, sys
def figures(path):
    text = open(path).read()
    rate = float(re.search(r"accepted and delivered: (\d+)", text).group(1))
    cpu = float(re.search(r"server CPU: ([\d.]+)", text).group(1))
    return rate, cpu
(plain_rate, plain_cpu), (rules_rate, rules_cpu) = figures(sys.argv[1]), figures(sys.argv[2])
print(f"the script costs {100 * (1 - rules_rate / plain_rate):.1f}% of the delivery rate, "
      f"{100 * (rules_cpu / plain_cpu - 1):.1f}% more server CPU per message")
PY
