#!/usr/bin/env bash
# run-privileges.sh - started as root with a non-root user configured,
# dkimgate must open its socket, read its keys, then hold no root
# privilege at all (checked in /proc); a group- or world-readable key must
# make it refuse to start, naming the file.
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
DKIMGATE=${DKIMGATE:-$top_builddir/dkimgate}
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root to test the privilege drop"
	[ "${CI:-}" = true ] && exit 1
	exit 77
fi
user=nobody
group=$(id -gn nobody)

work=$(mktemp -d /tmp/dkimgate-priv.XXXXXX)
chmod 755 "$work"
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

openssl genpkey -algorithm ED25519 -out "$work/key.pem" 2>/dev/null
chmod 600 "$work/key.pem"
write_conf() {
	cat > "$work/dkimgate.conf" <<CONF
socket = "unix:$work/dkimgate.sock";
user = "$user";
group = "$group";
socket_group = "$group";
log = "stderr";
pid_file = "$work/dkimgate.pid";
keys = ( { id = "k"; domain = "example.com"; selector = "s"; file = "$work/key.pem"; } );
signing_table = ( { from = "example.com"; keys = [ "k" ]; } );
dns = { resolver = "127.0.0.1@9"; trust_anchor = ""; timeout = 1; };
key_check = "off";
CONF
}
write_conf

"$DKIMGATE" -f -c "$work/dkimgate.conf" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do [ -S "$work/dkimgate.sock" ] && break; sleep 0.05; done
sleep 0.2
if [ -d "/proc/$pid" ]; then
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	groups=$(awk '/^Groups:/ {$1=""; print}' "/proc/$pid/status")
	capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
	capprm=$(awk '/^CapPrm:/ {print $2}' "/proc/$pid/status")
	want_uid=$(id -u "$user")
	want_gid=$(getent group "$group" | cut -d: -f3)
	[ "$uids" = "$want_uid $want_uid $want_uid $want_uid" ] && ok "real, effective, saved and fs uid are $user ($uids)" \
		|| notok "uids are '$uids', want $want_uid x4"
	[ "$gids" = "$want_gid $want_gid $want_gid $want_gid" ] && ok "all gids are $group ($gids)" \
		|| notok "gids are '$gids', want $want_gid x4"
	case " $groups " in *" 0 "*) notok "supplementary groups still hold root: $groups";;
		*) ok "no root supplementary group ($groups)";; esac
	[ "$capeff" = 0000000000000000 ] && [ "$capprm" = 0000000000000000 ] \
		&& ok "no capabilities left (CapEff=$capeff CapPrm=$capprm)" \
		|| notok "capabilities remain: CapEff=$capeff CapPrm=$capprm"
	owner=$(stat -c %U:%G "$work/dkimgate.sock")
	[ "$owner" = "$user:$group" ] && ok "socket owned by $owner" || notok "socket owner $owner"
	mode=$(stat -c %a "$work/dkimgate.sock")
	[ "$mode" = 660 ] && ok "socket mode 660" || notok "socket mode $mode"
	[ -s "$work/dkimgate.pid" ] && [ "$(cat "$work/dkimgate.pid")" = "$pid" ] && ok "pid file" \
		|| notok "pid file missing or wrong"
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=""
	[ "$rc" = 0 ] && ok "SIGTERM: clean exit" || notok "SIGTERM exit status $rc"
else
	notok "dkimgate did not stay up: $(cat "$work/log")"
fi

# A key readable by others must be refused, and the log must say which file.
chmod 644 "$work/key.pem"
"$DKIMGATE" -f -c "$work/dkimgate.conf" 2>"$work/log2" &
p2=$!
# It must exit by itself (a sanitizer build starts slowly: allow 20 s).
for _ in $(seq 200); do kill -0 "$p2" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$p2" 2>/dev/null; then
	kill "$p2"; wait "$p2" 2>/dev/null
	notok "started with a world-readable key"
else
	wait "$p2"
	rc=$?
	if [ "$rc" != 0 ] && grep -q "key file $work/key.pem is readable by group or others" "$work/log2"; then
		ok "world-readable key refused: $(head -1 "$work/log2")"
	else
		notok "world-readable key: exit $rc, log: $(cat "$work/log2")"
	fi
fi
"$DKIMGATE" -n -c "$work/dkimgate.conf" >/dev/null 2>&1 && notok "-n accepted a world-readable key" \
	|| ok "-n refuses a world-readable key"
# ... unless the operator explicitly allows it.
echo 'allow_readable_keys = true;' >> "$work/dkimgate.conf"
"$DKIMGATE" -n -c "$work/dkimgate.conf" >/dev/null 2>&1 && ok "allow_readable_keys = true accepts it" \
	|| notok "allow_readable_keys = true still refuses"
exit $fail
