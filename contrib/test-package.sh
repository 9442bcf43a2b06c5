#!/usr/bin/env bash
# The Debian package, installed and tried as docs/deploy.md says (issue 19):
# build it, `dpkg -i`, check what it put where, verify the systemd unit,
# run `postamt setup`, start exactly the unit's ExecStart as the unit
# would (user postamt, only CAP_NET_BIND_SERVICE, umask 077), send one
# message to port 25, read it back over IMAPS and POP3S, look at the
# queue, test the fail2ban filter on the server's own log, stop it with
# SIGTERM and purge the package. Needs root and the ports 25, 80, 110,
# 143, 443, 465, 587, 993, 995 and 4190 free. Leaves the machine as it found
# it, so it can run again; any failed step stops it with a message.
#
# The commands marked `# guide:` are the ones docs/deploy.md shows;
# crates/postamt/tests/deploy_guide.rs checks that every command in the
# guide's marked sections is one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

fail() {
    echo "test-package: FAILED: $*" >&2
    [ -n "${log:-}" ] && [ -f "$log" ] && { echo "--- server log:" >&2; cat "$log" >&2; }
    exit 1
}
step() { echo "test-package: $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs a package)"
work=$(mktemp -d)
server=""
cleanup() {
    rm -f /etc/fail2ban/filter.d/postamt.conf /etc/fail2ban/jail.d/postamt.local
    rm -rf /var/lib/postamt.old
    if [ -n "$server" ] && kill -0 "$server" 2>/dev/null; then
        kill -KILL "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A run that died half-way left the package behind: start clean.
if dpkg-query -W -f '${Status}' postamt 2>/dev/null | grep -q installed; then
    step "purging a postamt package left by an earlier run"
    dpkg --purge postamt >/dev/null
fi

step "building the package"
deb=$(bash contrib/build-deb.sh --fast | tail -n 1)
[ -f "$deb" ] || fail "contrib/build-deb.sh made no package"

step "installing $deb"
dpkg -i "$deb" # guide:

step "checking what the package installed"
getent passwd postamt >/dev/null || fail "no user postamt"
getent group postamt >/dev/null || fail "no group postamt"
[ "$(stat -c '%a %U %G' /var/lib/postamt)" = "700 postamt postamt" ] ||
    fail "/var/lib/postamt is $(stat -c '%a %U %G' /var/lib/postamt), not 700 postamt postamt"
[ "$(stat -c '%a %U %G' /etc/postamt/postamt.toml)" = "640 root postamt" ] ||
    fail "/etc/postamt/postamt.toml is $(stat -c '%a %U %G' /etc/postamt/postamt.toml), not 640 root postamt"
dpkg-query -W -f '${Conffiles}\n' postamt | grep -q '/etc/postamt/postamt.toml' ||
    fail "/etc/postamt/postamt.toml is not a conffile"
unit=/lib/systemd/system/postamt.service
[ -f "$unit" ] || fail "no $unit"
for page in postamt postamt-serve postamt-setup postamt-user-add postamt-queue-list postamt-dns; do
    zcat "/usr/share/man/man1/$page.1.gz" | grep -q '^\.TH' || fail "no manual page $page(1)"
done
man postamt >"$work/man" || fail "man postamt failed" # guide:
grep -qE '^\s+postamt\s+- ' "$work/man" || fail "man postamt shows no manual page for postamt"
man postamt-setup >"$work/man" || fail "man postamt-setup failed" # guide:
grep -qE '^\s+postamt-setup\s+- ' "$work/man" || fail "man postamt-setup shows no manual page for setup"
[ -f /usr/share/doc/postamt/deploy.md ] || fail "no /usr/share/doc/postamt/deploy.md"
[ -x /usr/bin/postamt ] || fail "no /usr/bin/postamt"

step "verifying the unit with systemd-analyze"
# Without systemd as PID 1 it still checks the unit's syntax, its
# settings and that ExecStart's binary exists (which is why it runs here,
# after the install).
systemd-analyze verify "$unit" 2>"$work/verify" || { cat "$work/verify" >&2; fail "systemd-analyze verify $unit"; }
if grep -v 'Failed to .*bus\|not booted\|systemd-journald' "$work/verify" | grep -q .; then
    cat "$work/verify" >&2
    fail "systemd-analyze verify warns about $unit"
fi

step "postamt setup"
postamt setup example.org --hostname mail.example.org >"$work/setup" # guide:
cat "$work/setup"
password=$(sed -n 's/^    \([a-z2-9-]\{23\}\)$/\1/p' "$work/setup")
[ -n "$password" ] || fail "setup printed no password"
grep -q '^example.org\. .*IN MX 10 mail.example.org\.' "$work/setup" || fail "setup printed no MX record"
postamt setup example.org --hostname mail.example.org >"$work/again" 2>&1 && fail "a second setup did not refuse"
grep -q -- '--force' "$work/again" || fail "the refusal does not name --force"
postamt setup example.org --hostname mail.example.org --force >"$work/forced" # guide:
grep -q 'Kept account postmaster@example.org' "$work/forced" || fail "setup --force did not keep the postmaster"
[ "$(stat -c '%U' /var/lib/postamt/postamt.db)" = postamt ] || fail "setup left the store owned by $(stat -c '%U' /var/lib/postamt/postamt.db)"
postamt dns example.org >/dev/null # guide:

# Mail for other domains goes through a relay that is not there (the
# guide's section 12), so the queue test below finds a message pending
# instead of one that DNS decided at once.
printf '\n[delivery]\nrelay = "127.0.0.1:9"\nrelay_tls = "none"\n' >>/etc/postamt/postamt.toml

step "starting the unit's ExecStart as user postamt with CAP_NET_BIND_SERVICE only"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ -n "$exec_start" ] || fail "no ExecStart in $unit"
# start_server LOG: runs the unit's ExecStart as the unit would, logging to
# LOG, and waits until it serves.
start_server() {
    log=$1
    # What the unit's User=, Group=, AmbientCapabilities=,
    # CapabilityBoundingSet=, NoNewPrivileges= and UMask= do.
    # shellcheck disable=SC2086
    (umask 077 && exec setpriv --reuid=postamt --regid=postamt --init-groups \
        --inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
        --bounding-set=-all,+net_bind_service --no-new-privs $exec_start) >"$log" 2>&1 &
    server=$!
    for _ in $(seq 300); do
        grep -q 'postamt is running' "$log" && break
        kill -0 "$server" 2>/dev/null || fail "the server exited at start"
        sleep 0.1
    done
    grep -q 'postamt is running' "$log" || fail "the server did not start within 30 seconds"
    [ "$(stat -c '%U' "/proc/$server")" = postamt ] || fail "the server does not run as postamt"
}
# stop_server: SIGTERM, as `systemctl stop` sends; it must exit 0 in time.
stop_server() {
    kill -TERM "$server"
    for _ in $(seq 300); do
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$server" 2>/dev/null && fail "the server did not stop within 30 seconds of SIGTERM"
    wait "$server" || fail "the server exited with status $? after SIGTERM"
    server=""
}
start_server "$work/server.log"

step "one message to port 25, read back over IMAPS and POP3S"
subject="package test $$ $RANDOM"
swaks --silent 2 --server 127.0.0.1:25 --from someone@example.net --to postmaster@example.org \
    --h-Subject "$subject" --body "Hello from the package test." || fail "swaks could not deliver to port 25"
POSTAMT_PASSWORD="$password" SUBJECT="$subject" python3 - <<'PY' || fail "the message did not arrive"
import imaplib, os, poplib, ssl, time
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE  # the server's self-signed certificate
user, password, subject = "postmaster@example.org", os.environ["POSTAMT_PASSWORD"], os.environ["SUBJECT"]
deadline = time.monotonic() + 20
while True:
    imap = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=context)
    imap.login(user, password)
    imap.select("INBOX")
    found = imap.search(None, "SUBJECT", '"%s"' % subject)[1][0].split()
    imap.logout()
    if found:
        break
    if time.monotonic() > deadline:
        raise SystemExit("not in the INBOX after 20 s")
    time.sleep(0.2)
pop = poplib.POP3_SSL("127.0.0.1", 995, context=context)
pop.user(user)
pop.pass_(password)
count, _ = pop.stat()
lines = b"\n".join(pop.retr(count)[1])
assert subject.encode() in lines, lines
pop.quit()
# A wrong password, for the fail2ban filter below.
try:
    imap = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=context)
    imap.login(user, "not the password")
    raise SystemExit("a wrong password was taken")
except imaplib.IMAP4.error:
    pass
PY

step "the web listener on ports 80 and 443, as setup wrote it"
curl -s http://localhost/health >"$work/health" # guide:
[ "$(cat "$work/health")" = ok ] || fail "/health on port 80 did not answer ok"
curl -s http://localhost/metrics >"$work/metrics" # guide:
grep -q '^postamt_smtp_messages_accepted_total' "$work/metrics" || fail "/metrics on port 80 has no message counter"
curl -sk https://localhost/health | grep -qx ok || fail "/health on port 443 did not answer ok"

step "users and aliases, as the guide adds them"
echo "another password" | postamt user add alice@example.org --password-stdin # guide:
postamt alias add info@example.org alice@example.org # guide:
postamt alias list example.org >"$work/aliases" # guide:
grep -q '^abuse@example.org' "$work/aliases" || fail "setup made no abuse@ alias"

step "the queue, as the guide reads it"
# Mail for another domain stays queued, pending (the relay is down).
POSTAMT_PASSWORD="$password" python3 - <<'PY' || fail "submission on port 465 refused the message"
import os, smtplib, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with smtplib.SMTP_SSL("127.0.0.1", 465, context=context) as smtp:
    smtp.login("postmaster@example.org", os.environ["POSTAMT_PASSWORD"])
    smtp.sendmail("postmaster@example.org", ["someone@example.net"],
                  "From: postmaster@example.org\r\nTo: someone@example.net\r\nSubject: queued\r\n\r\nWaits.\r\n")
PY
postamt queue list >"$work/queue" # guide:
cat "$work/queue"
id=$(awk '/^[^ ]/ && $0 !~ /empty/ { print $1; exit }' "$work/queue")
[ -n "$id" ] || fail "the message to example.net is not in the queue"
grep -q 'someone@example.net (pending' "$work/queue" || fail "queue list does not show the pending recipient"
postamt queue show "$id" >"$work/show" # guide:
grep -q '^Subject: queued' "$work/show" || fail "queue show does not show the header"
postamt queue retry "$id" # guide:
postamt queue delete "$id" # guide:
postamt queue list >"$work/queue"
grep -q 'The queue is empty.' "$work/queue" || fail "queue delete left the message"

step "TLS reports, as the guide reads them"
postamt reports tls >"$work/tlsrpt" # guide:
grep -q 'No TLS reports in the INBOX of postmaster@example.org' "$work/tlsrpt" || fail "reports tls: $(cat "$work/tlsrpt")"

step "a backup while the server runs"
backup_dir="$work/backup"
postamt backup "$backup_dir" >"$work/backup.out" # guide:
[ "$(stat -c '%a' "$backup_dir")" = 700 ] || fail "the backup directory is not 0700"
grep -qi 'verified' "$work/backup.out" || { cat "$work/backup.out" >&2; fail "the backup did not say it verified the copy"; }

step "the fail2ban filter on the server's log"
if command -v fail2ban-regex >/dev/null; then
    # Where the guide puts them (removed again at the end).
    cp /usr/share/doc/postamt/examples/fail2ban/filter.d/postamt.conf /etc/fail2ban/filter.d/ # guide:
    cp /usr/share/doc/postamt/examples/fail2ban/jail.d/postamt.local /etc/fail2ban/jail.d/ # guide:
    fail2ban-regex -v "$log" /etc/fail2ban/filter.d/postamt.conf >"$work/fail2ban" ||
        fail "fail2ban-regex: $(cat "$work/fail2ban")"
    # One failed login, and the address fail2ban would ban is the IPv4 one
    # (on a [::] listener the log says ::ffff:127.0.0.1).
    grep -q '^Failregex: 1 total' "$work/fail2ban" && grep -qE '^\|\s+127\.0\.0\.1\s' "$work/fail2ban" ||
        { cat "$work/fail2ban" >&2; fail "the fail2ban filter did not match the one failed login"; }
    # The same log as the jail reads it from the journal: fail2ban's systemd
    # backend hands the filter "HOST postamt[PID]: " and the server's line,
    # its timestamp included, with the journal's time apart (the leading
    # time here, which fail2ban-regex cuts off likewise).
    sed "s/^/2026-12-01T14:21:35.931914 $(hostname) postamt[$server]: /" "$log" >"$work/journal.log"
    fail2ban-regex -o ip "$work/journal.log" /etc/fail2ban/filter.d/postamt.conf >"$work/fail2ban-journal" ||
        fail "fail2ban-regex on the journal's shape: $(cat "$work/fail2ban-journal")"
    [ "$(cat "$work/fail2ban-journal")" = 127.0.0.1 ] ||
        { cat "$work/fail2ban-journal" >&2; fail "the fail2ban filter did not match the failed login in the journal's shape"; }
else
    fail "fail2ban-regex is not installed (.ci/run installs fail2ban)"
fi

step "an upgrade (the same package again) keeps the config written by setup"
dpkg -i "$deb" >/dev/null # guide:
grep -q '^hostname = "mail.example.org"' /etc/postamt/postamt.toml || fail "the upgrade replaced the config"
[ "$(stat -c '%a %U %G' /etc/postamt/postamt.toml)" = "640 root postamt" ] ||
    fail "after the upgrade the config is $(stat -c '%a %U %G' /etc/postamt/postamt.toml)"

step "stopping with SIGTERM"
stop_server

step "restoring the backup into a new data directory, as the guide says"
mv /var/lib/postamt /var/lib/postamt.old # guide:
postamt restore "$backup_dir" >"$work/restore.out" || fail "restore: $(cat "$work/restore.out")" # guide:
grep -qi 'verified' "$work/restore.out" || { cat "$work/restore.out" >&2; fail "the restore did not say it verified the copy"; }
chown -R postamt:postamt /var/lib/postamt # guide:
[ "$(stat -c '%a %U %G' /var/lib/postamt)" = "700 postamt postamt" ] ||
    fail "the restored /var/lib/postamt is $(stat -c '%a %U %G' /var/lib/postamt)"
start_server "$work/restored.log"
# The message of the first step is there again, for its user.
POSTAMT_PASSWORD="$password" SUBJECT="$subject" python3 - <<'PY' || fail "the restored store lacks the message"
import imaplib, os, ssl
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
imap = imaplib.IMAP4_SSL("127.0.0.1", 993, ssl_context=context)
imap.login("postmaster@example.org", os.environ["POSTAMT_PASSWORD"])
imap.select("INBOX")
assert imap.search(None, "SUBJECT", '"%s"' % os.environ["SUBJECT"])[1][0].split(), "not in the INBOX"
imap.logout()
PY
stop_server
rm -rf /var/lib/postamt.old

step "ACME configured as the guide says (no CA is reached here: nothing runs)"
cat >>/etc/postamt/postamt.toml <<'TOML'
[tls.acme]
directory = "https://acme-staging-v02.api.letsencrypt.org/directory"
email = "postmaster@example.org"
TOML
postamt tls status >"$work/tls" # guide:
grep -q 'none yet' "$work/tls" || { cat "$work/tls" >&2; fail "tls status does not say no certificate yet"; }

step "removing the package keeps the config, the mail and the user"
dpkg --remove postamt # guide:
[ ! -e /usr/bin/postamt ] || fail "dpkg --remove left /usr/bin/postamt"
[ -f /etc/postamt/postamt.toml ] || fail "dpkg --remove deleted the config"
[ -f /var/lib/postamt/postamt.db ] || fail "dpkg --remove deleted the store"
getent passwd postamt >/dev/null || fail "dpkg --remove deleted the user postamt"

step "purging the package"
dpkg --purge postamt # guide:
[ ! -e /var/lib/postamt ] || fail "purge left /var/lib/postamt"
[ ! -e /etc/postamt ] || fail "purge left /etc/postamt"
getent passwd postamt >/dev/null && fail "purge left the user postamt"
step "passed in $((SECONDS - started)) s"
