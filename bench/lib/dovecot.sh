# Sourced by the bench scripts that compare with Dovecot: starts Dovecot
# from a throwaway directory "$work/dovecot" (IMAPS on 22993, POP3S on
# 22995, TLS with a fresh self-signed certificate), with the users in
# "${users[@]}" and the password in "$password", each user's Maildir at
# "$work/maildirs/DOMAIN/LOCAL" owned by the system user vmail
# ("$vmail_uid", "$vmail_gid": see dovecot_prepare). The system's own
# Dovecot is left alone. The caller stops it with dovecot_stop.

# Installs Debian's Dovecot if missing and adds the system user "vmail"
# that owns the mailboxes; sets $vmail_uid and $vmail_gid. Root only.
dovecot_prepare() {
    if [ ! -x /usr/lib/dovecot/imap ] || [ ! -x /usr/lib/dovecot/pop3 ]; then
        apt-get update -qq # a fresh machine's package lists may name versions gone from the mirror
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd dovecot-pop3d > /dev/null
    fi
    id vmail > /dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin vmail
    vmail_uid=$(id -u vmail)
    vmail_gid=$(id -g vmail)
}

dovecot_start() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2> /dev/null
    mkdir -p "$work/dovecot"
    for user in "${users[@]}"; do
        echo "$user:$(doveadm pw -s ARGON2ID -p "$password")"
    done > "$work/dovecot/users"
    cat > "$work/dovecot/dovecot.conf" <<CONF
base_dir = $work/dovecot/run
state_dir = $work/dovecot/state
log_path = $work/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <$work/cert.pem
ssl_key = <$work/key.pem
auth_mechanisms = plain
first_valid_uid = $vmail_uid
passdb {
  driver = passwd-file
  args = $work/dovecot/users
}
userdb {
  driver = static
  args = uid=$vmail_uid gid=$vmail_gid home=$work/maildirs/%d/%n
}
mail_location = maildir:~
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = 22993
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = 0
  }
  inet_listener pop3s {
    port = 22995
    ssl = yes
  }
}
CONF
    dovecot -c "$work/dovecot/dovecot.conf"
}

dovecot_stop() {
    [ -f "$work/dovecot/dovecot.conf" ] && doveadm -c "$work/dovecot/dovecot.conf" stop 2> /dev/null || true
}
