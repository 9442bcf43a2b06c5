# Sourced by the bench scripts: starts postamt from the release build on
# local ports (SMTP 12525, POP3S 12995, IMAPS 12993) with a data directory
# under "$work", ten mailboxes bench0..bench9@example.test with the password
# in "$password", and "$to" holding the --to arguments for postamt-bench.
# Sets "$server" to its process id; the caller stops it. The caller may set
# "$max_connections", "$max_message_size", "$pregreet_wait_ms" (0 unless
# set: the default of 300 ms is the port-25 anti-spam pause, paid once per
# connection), "$extra_config" (TOML tables added at the end) and
# "$extra_zone" (more DNS records, in tests/python/dnsserver.py's form).
# DNS comes from a server on loopback (below).

password=bench-password
mkdir -p "$work/postamt"

# The checks of mail from the internet (SPF, DKIM, DMARC, iprev; on by
# default) ask DNS about every sender. A DNS server on loopback answers
# for the bench's sender domain, as a site's own caching resolver would:
# the figures then measure postamt, not a remote resolver (one that drops
# a query costs the lookup's whole timeout). It ends with this script.
cat > "$work/zone" <<ZONE
bench.test TXT "v=spf1 ip4:127.0.0.0/8 -all"
_dmarc.bench.test TXT "v=DMARC1; p=none"
${extra_zone:-}
ZONE
# Every question it gets is logged in "$work/dns-queries" (one line each).
coproc bench_dns { exec python3 tests/python/dnsserver.py "$work/zone" "$work/dns-queries"; }
read -r dns_port <&"${bench_dns[0]}"
cat > "$work/postamt/postamt.toml" <<TOML
hostname = "bench.example.test"
data_dir = "data"
[server]
allow_root = true  # the bench runs as whoever starts it, root in CI
[listen]
smtp = ["127.0.0.1:12525"]
submission = []
submissions = []
pop3 = []
pop3s = ["127.0.0.1:12995"]
imap = []
imaps = ["127.0.0.1:12993"]
[smtp]
pregreet_wait_ms = ${pregreet_wait_ms:-0}  # default 300; off here to measure the server, not the anti-spam pause
max_message_size = ${max_message_size:-26214400}
[dns]
nameservers = ["127.0.0.1:$dns_port"]
[limits]
max_connections = ${max_connections:-1000}
max_connections_per_address = ${max_connections:-200}
${extra_config:-}
TOML
export POSTAMT_CONFIG="$work/postamt/postamt.toml"
"$bin/postamt" serve 2> "$work/postamt/serve.log" &
server=$!
for _ in $(seq 100); do grep -q "imaps listening" "$work/postamt/serve.log" && break; sleep 0.1; done
# The ports are fixed: a bench of another checkout running at the same
# time holds them, and the loads would then measure its server.
if ! grep -q "imaps listening" "$work/postamt/serve.log"; then
    echo "postamt did not start listening (ports 12525, 12995, 12993 taken by another run?):" >&2
    tail -5 "$work/postamt/serve.log" >&2
    exit 1
fi
"$bin/postamt" domain add example.test > /dev/null
users=()
to=()
for n in $(seq 0 9); do
    users+=("bench$n@example.test")
    to+=(--to "bench$n@example.test")
    echo "$password" | "$bin/postamt" user add "bench$n@example.test" --password-stdin > /dev/null
done

# DNS questions the server has asked so far.
dns_queries() { cat "$work/dns-queries" 2>/dev/null | wc -l; }

postamt_queue_empty() { [ "$("$bin/postamt" queue list)" = "The queue is empty." ]; }
# Waits until `$@` holds, polling every 20 ms, for at most ten minutes.
until_true() {
    for _ in $(seq 30000); do "$@" && return 0; sleep 0.02; done
    echo "gave up waiting for: $*" >&2
    exit 1
}

# CPU time (user + system, in ms) the server has used so far: on a shared
# machine a steadier measure of cost than wall-clock rates.
server_cpu_ms() {
    awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$server/stat"
}
