#!/bin/bash
# run-postfix.sh - dkimgate end to end, behind a real Postfix on loopback.
#
# Everything runs from one fresh work directory and listens on 127.0.0.1
# only; the system's Postfix instance and /etc/postfix are never touched
# (/etc/postfix is read as meta_directory, for postfix-files):
#   - t/dns/testdns: publishes the test keys (fresh RSA 2048 and Ed25519),
#     _dmarc.strict.example.org (adkim=s) and _dmarc.example.com (so that
#     mail.example.com aligns relaxed under RFC 9989), a DNSSEC-signed zone
#     secure.example.net, a SERVFAIL zone servfail.example.net and a zone
#     that never answers, blackhole.example.net;
#   - dkimgate -f on a unix socket, with a configuration written here
#     (example.com signs with rsa + ed25519 + the ESP key of esp.example.net:
#     three signatures per message), resolver = the test server;
#   - a private Postfix instance ("postfix -c DIR start"; own main.cf,
#     master.cf, queue and data directories, maillog_file) with two smtpd
#     services: a signing one (milter_macro_daemon_name=ORIGINATING, which
#     dkimgate's sign.daemon_names matches) and a verifying one; all mail
#     is relayed to
#   - smtp-sink on 127.0.0.1, which dumps each message into a file.
#
# Checks, one "ok - ..." or "not ok - ..." line each.  All messages are
# sent at once (swaks in parallel), so dkimgate serves them concurrently.
#  1. Signing: swaks sends From alice@example.com to the signing port; the
#     message smtp-sink receives carries three DKIM-Signatures (example.com
#     rsa and ed, esp.example.net) and no Authentication-Results of ours;
#     they verify with python3-dkim, with Mail::DKIM (RSA pass; Ed25519
#     gives Mail::DKIM 1.20230212's "unsupported algorithm" verdict when the
#     module lacks Ed25519) and with "dkimctl verify".  Also: a 300 KB body
#     with dot-stuffed lines (several milter body chunks); a local submission
#     through Postfix's sendmail (non_smtpd_milters); a From outside the
#     signing table goes out unsigned.
#  2. Verifying: messages signed by dkimctl (or not) are sent to the
#     verifying port; the one Authentication-Results field of our
#     authserv-id, which must be the first header field, is parsed with
#     python3-authres (t/e2e/e2e-check.py: strict and plain parse) and its
#     results compared, in order, with what is expected: pass (RSA and
#     Ed25519; DNSSEC secure and insecure, from the comments), fail (body,
#     header), none, temperror (SERVFAIL zone; DNS timeout), permerror
#     (missing selector, malformed signature), aligned / unaligned /
#     relaxed alignment, strict adkim from DMARC (pass but unaligned-pass),
#     forged A-R fields of our authserv-id removed (another id's kept; also
#     40 of them, more than any fixed table of 32), a quoted display name
#     with a comma, several From: addresses, two From: fields, no From:, a
#     300 KB body, a 51 KB header field, two messages after an aborted
#     transaction in one SMTP session (no state carried over), and the
#     three-signature message of step 1 passed on.  Every header.b must be
#     the start of the b= of the signature it names.
#  3. Every listening TCP socket of the processes started here is on
#     127.0.0.1 (dkimgate has a unix socket only).
#  4. dkimgate exits 0 on SIGTERM, logging "stopped inflight=0".
#
# Run by "make check" (top_srcdir and top_builddir from AM_TESTS_ENVIRONMENT)
# or by hand from the source tree, as root (Postfix's master must start as
# root).  KEEP=1 keeps the work directory.  On failure the dkimgate log and
# the tail of the Postfix maillog are printed.
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (Postfix,
# swaks or root missing, and CI is not "true"; in CI nothing may be skipped).

# "COND && ok ... || not_ok ..." is used below: ok always returns 0.
# shellcheck disable=SC2015
set -u
# E2E_TRACE=1: trace every command with a time stamp (find what is slow).
[ "${E2E_TRACE:-}" = 1 ] && { PS4='+ $EPOCHREALTIME '; set -x; }

here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# shellcheck source=../lib/proc.sh
. "$top_srcdir/t/lib/proc.sh"
top_builddir=${top_builddir:-$top_srcdir}
dkimgate=$top_builddir/dkimgate
dkimctl=$top_builddir/dkimctl
testdns=$top_srcdir/t/dns/testdns
check=$here/e2e-check.py
mdkim=$here/e2e-mdkim.pl
py=/usr/bin/python3	# Debian's: dkim, dns and authres are Debian packages
PATH=$PATH:/usr/sbin:/sbin
AUTHSERV=mx.example.org
start_time=${EPOCHREALTIME:-}

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; return 0; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }

# --- requirements ----------------------------------------------------------

skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		not_ok "$* (CI=true: nothing may be skipped)"
		exit 1
	fi
	echo "# SKIP: $*"
	exit 77
}
missing=()
for t in postfix postconf smtp-sink swaks; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ ${#missing[@]} -eq 0 ] ||
	skip_or_fail "missing ${missing[*]} (Debian packages postfix, swaks)"
[ "$(id -u)" = 0 ] || skip_or_fail "not root: a private Postfix instance needs root to start"
missing=()
for t in openssl perl unbound dig ldns-signzone ss; do
	command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
[ -x "$py" ] && "$py" -c 'import dkim, dns.resolver, nacl, authres' 2>/dev/null ||
	missing+=("python3-dkim/python3-dnspython/python3-nacl/python3-authres")
perl -MMail::DKIM::Verifier -MNet::DNS::Resolver -e 1 2>/dev/null ||
	missing+=("Mail::DKIM (libmail-dkim-perl)")
if [ ${#missing[@]} -gt 0 ]; then
	not_ok "required tools missing: ${missing[*]}"
	exit 1
fi
for p in "$dkimgate" "$dkimctl"; do
	[ -x "$p" ] || { not_ok "$p not built (run make)"; exit 1; }
done
# Mail::DKIM gained Ed25519 in 1.20240923; Debian 12 has 1.20230212.
mdkim_ed25519=0
perl -MMail::DKIM::Algorithm::ed25519_sha256 -e 1 2>/dev/null && mdkim_ed25519=1

# --- work directory and clean-up ---------------------------------------------

# Under /tmp whatever TMPDIR says: user postfix must reach the milter's
# unix socket here, and its path must stay short (sun_path is 108 bytes).
work=$(mktemp -d /tmp/dkimgate-e2e.XXXXXX) || exit 1
# Postfix's daemons (user postfix) reach the socket and the sink directory.
chmod 755 "$work"
PF=$work/postfix		# config_directory
sock=$work/dkimgate.sock
sink_pid='' dkimgate_pid='' master_pid='' signport='' verifyport=''



stop_postfix() {
	[ -f "$PF/main.cf" ] || return 0
	[ -n "$master_pid" ] || master_pid=$(tr -d ' ' <"$work/queue/pid/master.pid" 2>/dev/null)
	postfix -c "$PF" stop >/dev/null 2>&1
	stop_pid "$master_pid" 50
	master_pid=''
}

show_logs() {
	echo "# --- dkimgate log (last 60 lines) ---"
	tail -n 60 "$work/dkimgate.log" 2>/dev/null | sed 's/^/# /'
	echo "# --- Postfix maillog (last 60 lines) ---"
	tail -n 60 "$work/maillog" 2>/dev/null | sed 's/^/# /'
}

cleanup() {
	stop_postfix
	stop_pid "$sink_pid" 20
	stop_pid "$dkimgate_pid" 100
	"$testdns" stop "$work/dns" >/dev/null 2>&1
	[ "$nfail" -gt 0 ] && show_logs
	if [ "${KEEP:-}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() { not_ok "$*"; exit 1; }

# A TCP port that was free a moment ago (the kernel's choice); callers retry
# when another process takes it first.
free_port() {
	"$py" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait up to $3 tenths of a second until process $2 listens on
# 127.0.0.1:$1 (that process: another one may hold a port we thought free).
wait_port() {
	local n=${3:-100}
	while [ "$n" -gt 0 ]; do
		alive "$2" || return 1
		ss -H -ltnp "sport = :$1" 2>/dev/null | grep -q "127\.0\.0\.1:$1 .*pid=$2," &&
			return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# --- keys and DNS --------------------------------------------------------------

K=$work/keys
mkdir -m 700 "$K"
(
	umask 077
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/rsa.pem" &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/esp.pem" &&
	openssl genpkey -algorithm ED25519 -out "$K/ed.pem"
) 2>"$work/openssl.err" || die "openssl cannot make the keys: $(head -1 "$work/openssl.err")"
rsa_p=$(openssl pkey -in "$K/rsa.pem" -pubout -outform DER | base64 -w0)
esp_p=$(openssl pkey -in "$K/esp.pem" -pubout -outform DER | base64 -w0)
# RFC 8463: p= is the raw 32-byte Ed25519 key, the tail of the SPKI DER.
ed_p=$(openssl pkey -in "$K/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)

{
	printf '# owner\ttype\tvalue\n'
	printf 'rsa._domainkey.example.com\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$rsa_p"
	printf 'ed._domainkey.example.com\tTXT\tv=DKIM1; k=ed25519; p=%s\n' "$ed_p"
	printf 'cust42._domainkey.esp.example.net\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$esp_p"
	printf 'rsa._domainkey.strict.example.org\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$rsa_p"
	printf 'rsa._domainkey.sub.strict.example.org\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$rsa_p"
	printf '_dmarc.strict.example.org\tTXT\tv=DMARC1; p=none; adkim=s\n'
	# RFC 9989: mail.example.com shares example.com's Organizational
	# Domain only when the tree walk finds a record there.
	printf '_dmarc.example.com\tTXT\tv=DMARC1; p=none\n'
	printf 'rsa._domainkey.secure.example.net\tTXT\tv=DKIM1; k=rsa; p=%s\n' "$rsa_p"
} >"$work/records.tsv"
dnsport=$("$testdns" start "$work/dns" --signed secure.example.net \
	--servfail servfail.example.net --blackhole blackhole.example.net "$work/records.tsv" 2>"$work/testdns.err") ||
	die "t/dns/testdns did not start: $(tail -3 "$work/testdns.err" | tr '\n' ' ')"
anchors=$work/dns/trust-anchors

# --- dkimgate ------------------------------------------------------------------

cat >"$work/dkimgate.conf" <<EOF
# Written by t/e2e/run-postfix.sh
socket = "unix:$sock";
socket_group = "postfix";
socket_mode = "0660";
log = "stderr";
authserv_id = "$AUTHSERV";
sign = {
  authenticated = true;
  # Only mail arriving on the signing smtpd is signed: every test client
  # connects from 127.0.0.1, so no internal network here.
  internal_networks = [ ];
  daemon_names = [ "ORIGINATING" ];
};
keys = (
  { id = "ex-rsa"; domain = "example.com"; selector = "rsa"; file = "$K/rsa.pem"; },
  { id = "ex-ed"; domain = "example.com"; selector = "ed"; file = "$K/ed.pem"; },
  { id = "esp"; domain = "esp.example.net"; selector = "cust42"; file = "$K/esp.pem"; }
);
signing_table = (
  { from = "example.com"; keys = [ "ex-rsa", "ex-ed", "esp" ]; }
);
verify = {
  dmarc_lookup = true;
};
dns = {
  resolver = "127.0.0.1@$dnsport";
  trust_anchor = "$anchors";
  # Short: the blackhole case waits this long (all cases run at once).
  timeout = 2;
};
EOF
if out=$("$dkimgate" -n -c "$work/dkimgate.conf" 2>&1); then
	ok "dkimgate -n accepts the test configuration ($out)"
else
	die "dkimgate -n refuses the test configuration: $out"
fi
"$dkimgate" -f -l stderr -c "$work/dkimgate.conf" 2>"$work/dkimgate.log" &
dkimgate_pid=$!
n=100
until [ -S "$sock" ] && grep -q ' started ' "$work/dkimgate.log" 2>/dev/null; do
	alive "$dkimgate_pid" || die "dkimgate exited at start: $(tail -3 "$work/dkimgate.log")"
	[ $n -gt 0 ] || die "dkimgate socket $sock did not appear within 10 s"
	sleep 0.1
	n=$((n - 1))
done
ok "dkimgate started (pid $dkimgate_pid, socket $sock)"

# --- smtp-sink and Postfix ---------------------------------------------------------

mkdir -p "$work/sink" "$PF" "$work/queue" "$work/data"
chown postfix "$work/sink" "$work/data"

start_sink() {
	sinkport=$(free_port)
	# -h: a greeting name that is not ours, or Postfix sees a mail loop.
	smtp-sink -u postfix -h sink.example -d "$work/sink/m." "127.0.0.1:$sinkport" 100 \
		>>"$work/sink.log" 2>&1 &
	sink_pid=$!
	wait_port "$sinkport" "$sink_pid" 50
}

# The -o options of one service of contrib/postfix/master.cf.snippet, less
# those that need TLS or SASL, which this test does not set up.
snippet_opts() {
	awk -v svc="$1" '
		/^[^ \t#]/ { on = ($1 == svc) }
		on && /^[ \t]+-o / {
			if ($2 ~ /tls|sasl|relay_restrictions|syslog_name/) next
			print "  " $1 " " $2
		}' "$top_srcdir/contrib/postfix/master.cf.snippet"
}

write_postfix_conf() {
	cat >"$PF/main.cf" <<EOF
# Written by t/e2e/run-postfix.sh: a private instance, nothing shared with
# the system's Postfix but the programs and /etc/postfix/postfix-files.
compatibility_level = 3.6
queue_directory = $work/queue
data_directory = $work/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
maillog_file = $work/maillog
maillog_file_prefixes = $work
myhostname = $AUTHSERV
mydomain = example.org
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:$sinkport
default_transport = smtp
relay_transport = smtp
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
biff = no
# Postfix's cleanup rewrites and completes headers before the milter sees
# them (signatures stay valid either way), but an MX leaves those of remote
# clients alone: the no-From case must arrive without a From: added.
local_header_rewrite_clients =
# The smtp client must not turn 8bit into quoted-printable after signing
# (for next hops without 8BITMIME; smtp-sink has it).
disable_mime_output_conversion = yes
EOF
	# The milter settings are those of contrib/postfix/main.cf.snippet, as an
	# operator would paste them, with the socket of this test.
	local line
	while IFS= read -r line; do
		case "$line" in ''|'#'*) continue;; esac
		postconf -c "$PF" -e "$line" || return 1
	done <"$top_srcdir/contrib/postfix/main.cf.snippet"
	postconf -c "$PF" -e "dkimgate_milter = unix:$sock" || return 1
	# Local submissions (sendmail/pickup) are signed here by daemon name,
	# since this test turns the loopback internal network off.
	postconf -c "$PF" -e "milter_macro_daemon_name = ORIGINATING" || return 1
	cat >"$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$signport inet n - n - - smtpd
  -o syslog_name=postfix/sign
$(snippet_opts submission)
127.0.0.1:$verifyport inet n - n - - smtpd
  -o syslog_name=postfix/verify
$(snippet_opts smtp)
  -o milter_macro_daemon_name=VERIFYING
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

start_postfix() {
	signport=$(free_port)
	verifyport=$(free_port)
	[ "$signport" != "$verifyport" ] && [ "$signport" != "$sinkport" ] &&
		[ "$verifyport" != "$sinkport" ] || return 1
	write_postfix_conf
	postfix -c "$PF" start >>"$work/postfix.out" 2>&1 || return 1
	master_pid=$(tr -d ' ' <"$work/queue/pid/master.pid" 2>/dev/null)
	wait_port "$signport" "$master_pid" 50 && wait_port "$verifyport" "$master_pid" 50
}

started=0
for attempt in 1 2 3; do
	if start_sink && start_postfix; then
		started=1
		break
	fi
	# A port taken in between (parallel runs): new ports, again.
	echo "# start attempt $attempt failed (port $sinkport, ${signport:-} or ${verifyport:-} taken?); $(tail -2 "$work/postfix.out" 2>/dev/null | tr '\n' ' ')"
	stop_postfix
	stop_pid "$sink_pid" 20
done
[ $started = 1 ] || die "Postfix or smtp-sink did not start: $(tail -5 "$work/postfix.out" | tr '\n' ' ')"
ok "private Postfix $(postconf -c "$PF" -h mail_version) on 127.0.0.1 (sign $signport, verify $verifyport, master pid $master_pid), smtp-sink on $sinkport"

# --- sending and receiving ----------------------------------------------------------

# send NAME PORT FROM [swaks options]: hand a message to Postfix over SMTP;
# its queue id goes to $work/qid.NAME.  Run in the background: failures are
# reported by received().
send() {
	local name=$1 port=$2 from=$3
	shift 3
	swaks --server "127.0.0.1:$port" --ehlo client.example --from "$from" \
		--to rcpt@example.org --suppress-data "$@" >"$work/send.$name" 2>&1
	sed -n 's/^<-  250 .*queued as \([0-9A-Za-z]*\).*/\1/p' "$work/send.$name" |
		tail -1 >"$work/qid.$name"
}

# send_local NAME FILE: submit FILE with Postfix's sendmail (pickup and
# cleanup, so non_smtpd_milters); the queue id is found by Message-ID.
send_local() {
	local name=$1 file=$2 mid n=100 qid=''
	mid=$(sed -n 's/^Message-ID: *<\(.*\)>.*/\1/p' "$file" | head -1)
	sendmail -C "$PF" -f alice@example.com rcpt@example.org <"$file" \
		>"$work/send.$name" 2>&1 || return 1
	while [ -z "$qid" ] && [ $n -gt 0 ]; do
		qid=$(sed -n "s/.*postfix\/cleanup\[[0-9]*\]: \([0-9A-Za-z]*\): message-id=<$mid>.*/\1/p" \
			"$work/maillog" 2>/dev/null | tail -1)
		[ -n "$qid" ] || sleep 0.1
		n=$((n - 1))
	done
	echo "$qid" >"$work/qid.$name"
}

# received NAME: wait until Postfix delivered message NAME to smtp-sink and
# write the message as sent to $work/got.NAME.eml (CRLF).  Waits at most 30 s
# in all: the deadline is shared by every call.
deadline=''
received() {
	local name=$1 qid dump why
	[ -n "$deadline" ] || deadline=$((SECONDS + 30))
	qid=$(cat "$work/qid.$name" 2>/dev/null)
	if [ -z "$qid" ]; then
		why=$(grep '^<\*\*\|^\*\*\*' "$work/send.$name" 2>/dev/null | head -3)
		[ -n "$why" ] || why=$(tail -3 "$work/send.$name" 2>/dev/null)
		not_ok "$name: Postfix did not queue the message: $(echo "$why" | tr '\n\t' '  ')"
		return 1
	fi
	until grep -q "postfix/smtp\[[0-9]*\]: $qid: to=<.*status=sent" "$work/maillog" 2>/dev/null; do
		if grep -q "$qid: .*status=\(bounced\|deferred\)" "$work/maillog" 2>/dev/null; then
			not_ok "$name: not delivered: $(grep "$qid: .*status=" "$work/maillog" | tail -1)"
			return 1
		fi
		if [ $SECONDS -ge $deadline ]; then
			not_ok "$name: queue id $qid not delivered to smtp-sink in time"
			return 1
		fi
		sleep 0.1
	done
	# Postfix's Received: "... with ESMTP id QID" or "(Postfix, from userid
	# 0) id QID;" for local submissions.
	dump=$(grep -l -E "[[:space:]]id $qid(;|\$)" "$work/sink"/m.* 2>/dev/null | head -1)
	if [ -z "$dump" ]; then
		not_ok "$name: delivered ($qid), but no smtp-sink dump holds it"
		return 1
	fi
	"$py" "$check" strip "$dump" "$work/got.$name.eml"
}

# mkmsg FILE FROM NAME [extra header lines...]: a plain message.
mkmsg() {
	local f=$1 from=$2 name=$3
	shift 3
	{
		for h in "$@"; do printf '%s\n' "$h"; done
		printf 'From: %s\n' "$from"
		printf 'To: Rcpt <rcpt@example.org>\n'
		printf 'Subject: dkimgate e2e %s\n' "$name"
		printf 'Date: %s\n' "$(date -R)"
		printf 'Message-ID: <%s.%s@e2e.example>\n' "$name" "$$"
		printf 'MIME-Version: 1.0\n'
		printf 'Content-Type: text/plain; charset=us-ascii\n'
		printf 'X-E2E: %s\n' "$name"
		printf '\n'
		printf 'Hello from the dkimgate end-to-end test (%s).\n' "$name"
		printf 'This line is changed by the body test.\n'
		printf '\n'
		printf 'Bye.\n'
	} >"$f"
}

# sign_msg IN OUT DOMAIN SELECTOR [rsa|ed]: dkimctl sign with a test key.
sign_msg() {
	local key=$K/rsa.pem alg=rsa-sha256
	[ "${5:-rsa}" = ed ] && key=$K/ed.pem alg=ed25519-sha256
	"$dkimctl" sign -d "$3" -s "$4" -k "$key" -a "$alg" "$1" >"$2" 2>"$2.err" || {
		not_ok "dkimctl sign $(basename "$2"): $(head -1 "$2.err")"
		rm -f "$2"
		return 1
	}
}

# --- the messages ---------------------------------------------------------------------

M=$work/msg
mkdir -p "$M"

# A body of several milter chunks (libmilter passes at most 64 KB), with
# lines that SMTP dot-stuffs and trailing white space.
for i in $(seq 1 4000); do
	printf 'Line %04d of a long body: the quick brown fox jumps over the lazy dog.  \n' "$i"
	[ $((i % 500)) = 0 ] && printf '.a line that starts with a dot\n..and two\n.\n'
done >"$work/big.body"
# Not a lone "." last: swaks --data takes a final "." line for the end of DATA.
echo 'The end.' >>"$work/big.body"

# Verifying cases: the message $M/NAME.eml, then its expected results, in
# the order of e2e-check.py ar (EXPECT arguments joined by $SEP).
declare -A expect_of keep_of
cases=()
add_case() { cases+=("$1"); expect_of[$1]=$2; keep_of[$1]=${3:-}; }
SEP=$'\x1f'

# pass: RSA and Ed25519 signatures of the From domain.
mkmsg "$M/pass.in" alice@example.com pass
sign_msg "$M/pass.in" "$M/pass.rsa" example.com rsa &&
	sign_msg "$M/pass.rsa" "$M/pass.eml" example.com ed ed
add_case pass "dkim=pass|reason=good signature|header.d=example.com|header.s=ed|header.a=ed25519-sha256|header.from=example.com|policy.align=strict|policy.adkim=r${SEP}dkim=pass|reason=good signature|header.d=example.com|header.s=rsa|header.a=rsa-sha256|header.from=example.com|policy.align=strict|policy.adkim=r${SEP}dkim-alignment=aligned-pass|header.from=example.com"

# fail: body changed after signing; a signed header changed.
mkmsg "$M/fail.in" alice@example.com fail-body
sign_msg "$M/fail.in" "$M/fail.signed" example.com rsa
sed 's/This line is changed by the body test\./This line WAS changed./' "$M/fail.signed" >"$M/fail-body.eml"
add_case fail-body "dkim=fail|reason~body hash did not verify|header.d=example.com|header.s=rsa|policy.align=strict${SEP}dkim-alignment=fail|header.from=example.com"
sed 's/^Subject: dkimgate e2e fail-body/Subject: dkimgate e2e fail-header/' "$M/fail.signed" >"$M/fail-header.eml"
add_case fail-header "dkim=fail|reason~signature did not verify|header.d=example.com|header.s=rsa${SEP}dkim-alignment=fail|header.from=example.com"

# none: no signature at all.
mkmsg "$M/none.eml" alice@example.com none
add_case none "dkim=none|reason=no DKIM signature${SEP}dkim-alignment=none|header.from=example.com"

# temperror: the key's zone answers SERVFAIL.
mkmsg "$M/temperror.in" alice@example.com temperror
sign_msg "$M/temperror.in" "$M/temperror.eml" servfail.example.net rsa
add_case temperror "dkim=temperror|reason~key lookup failed|header.d=servfail.example.net|header.s=rsa|header.from=example.com|policy.align=no${SEP}dkim-alignment=fail|header.from=example.com"

# permerror: no key at the selector; a signature without bh=.
mkmsg "$M/noselector.in" alice@example.com permerror-selector
sign_msg "$M/noselector.in" "$M/permerror-selector.eml" example.com nosuch
add_case permerror-selector "dkim=permerror|reason~no key|header.d=example.com|header.s=nosuch${SEP}dkim-alignment=fail|header.from=example.com"
mkmsg "$M/malformed.in" alice@example.com permerror-malformed
sign_msg "$M/malformed.in" "$M/malformed.signed" example.com rsa
perl -0pe 's/(DKIM-Signature:.*?)\bbh=[^;]*;\s*/$1/s' "$M/malformed.signed" >"$M/permerror-malformed.eml"
add_case permerror-malformed "dkim=permerror|reason=required tag bh= missing|header.d=example.com|header.s=rsa${SEP}dkim-alignment=fail|header.from=example.com"

# alignment: another organization; a subdomain From (relaxed).
mkmsg "$M/unaligned.in" bob@example.org unaligned
sign_msg "$M/unaligned.in" "$M/unaligned.eml" example.com rsa
add_case unaligned "dkim=pass|header.d=example.com|header.from=example.org|policy.align=no|policy.adkim=r${SEP}dkim-alignment=unaligned-pass|header.from=example.org"
mkmsg "$M/relaxed.in" carol@mail.example.com relaxed
sign_msg "$M/relaxed.in" "$M/relaxed.eml" example.com rsa
add_case relaxed "dkim=pass|header.d=example.com|header.from=mail.example.com|policy.align=relaxed|policy.adkim=r${SEP}dkim-alignment=aligned-pass|header.from=mail.example.com"

# strict adkim (DMARC record of strict.example.org): a subdomain's
# signature passes but does not align; the domain's own aligns.
mkmsg "$M/strict-sub.in" dave@strict.example.org strict-sub
sign_msg "$M/strict-sub.in" "$M/strict-sub.eml" sub.strict.example.org rsa
add_case strict-sub "dkim=pass|header.d=sub.strict.example.org|header.from=strict.example.org|policy.align=relaxed|policy.adkim=s${SEP}dkim-alignment=unaligned-pass|header.from=strict.example.org"
mkmsg "$M/strict-same.in" dave@strict.example.org strict-same
sign_msg "$M/strict-same.in" "$M/strict-same.eml" strict.example.org rsa
add_case strict-same "dkim=pass|header.d=strict.example.org|header.from=strict.example.org|policy.align=strict|policy.adkim=s${SEP}dkim-alignment=aligned-pass|header.from=strict.example.org"

# DNSSEC: the key is in the signed zone.
mkmsg "$M/dnssec.in" alice@secure.example.net dnssec
sign_msg "$M/dnssec.in" "$M/dnssec.eml" secure.example.net rsa
add_case dnssec "dkim=pass|header.d=secure.example.net|header.from=secure.example.net|policy.align=strict${SEP}dkim-alignment=aligned-pass|header.from=secure.example.net"

# Forged results claiming our authserv-id go; another id's stay.
mkmsg "$M/forged.eml" alice@example.com forged \
	"Authentication-Results: $AUTHSERV; dkim=pass header.d=example.com" \
	"Authentication-Results: other.example; dkim=pass header.d=example.com" \
	"Authentication-Results: MX.Example.ORG (forged again);"$'\n\t'"dkim=pass header.d=example.com"
add_case forged "dkim=none|reason=no DKIM signature${SEP}dkim-alignment=none|header.from=example.com" other.example

# More forged fields than dkimgate verifies signatures (LIMIT_SIGNATURES,
# 32): every one must go, or the last would pass for ours.
forged=()
for i in $(seq 1 40); do
	forged+=("Authentication-Results: $AUTHSERV; dkim=pass header.d=example.com header.s=f$i")
done
mkmsg "$M/forged-many.eml" alice@example.com forged-many "${forged[@]}"
add_case forged-many "dkim=none|reason=no DKIM signature${SEP}dkim-alignment=none|header.from=example.com"

# A 51 KB header field (folded), in one milter packet.  Not bigger: with
# any milter in main.cf (non_smtpd_milters suffices, even for SMTP mail not
# filtered), Postfix 3.7 cuts one header field at about 60,000 bytes before
# delivery; 60 KB and 97 KB fields both arrived with 58,311 of their x.
long=$(head -c 50000 /dev/zero | tr '\0' 'x' | fold -w 70 | sed '2,$s/^/\t/')
mkmsg "$M/longheader.in" alice@example.com longheader "X-Long: $long"
sign_msg "$M/longheader.in" "$M/longheader.eml" example.com rsa
add_case longheader "dkim=pass|header.d=example.com|header.s=rsa|policy.align=strict${SEP}dkim-alignment=aligned-pass|header.from=example.com"

# Several From: addresses: no alignment, and the A-R says why.
mkmsg "$M/twofrom.in" "alice@example.com, bob@example.org" twofrom
sign_msg "$M/twofrom.in" "$M/twofrom.eml" example.com rsa
add_case twofrom "dkim=pass|header.d=example.com|header.from=|policy.align=${SEP}dkim-alignment=unaligned-pass|reason=several From: addresses|header.from="

# A display name with a comma is still one address.
mkmsg "$M/quoted-from.in" '"Doe, Alice" <alice@example.com>' quoted-from
sign_msg "$M/quoted-from.in" "$M/quoted-from.eml" example.com rsa
add_case quoted-from "dkim=pass|header.d=example.com|header.from=example.com|policy.align=strict${SEP}dkim-alignment=aligned-pass|header.from=example.com"

# A big message, verified across body chunks.
{ cat "$M/none.eml"; cat "$work/big.body"; } >"$M/big.in"
sed -i 's/^Subject: dkimgate e2e none/Subject: dkimgate e2e big/' "$M/big.in"
sign_msg "$M/big.in" "$M/big.eml" example.com rsa
add_case big "dkim=pass|header.d=example.com|header.s=rsa|policy.align=strict${SEP}dkim-alignment=aligned-pass|header.from=example.com"

# Two From: fields, one address each (RFC 5322 allows one).
mkmsg "$M/twofields.in" alice@example.com twofields "From: bob@example.org"
sign_msg "$M/twofields.in" "$M/twofields.eml" example.com rsa
add_case twofields "dkim=pass|header.d=example.com|header.from=${SEP}dkim-alignment=unaligned-pass|reason=several From: addresses|header.from="

# A key lookup that never gets an answer: dkimgate's deadline (dns.timeout,
# 2 s here) or libunbound giving up on the silent server first (SERVFAIL);
# temperror either way.
mkmsg "$M/timeout.in" alice@example.com timeout
sign_msg "$M/timeout.in" "$M/timeout.eml" blackhole.example.net rsa
add_case timeout "dkim=temperror|reason~key lookup failed|header.d=blackhole.example.net|policy.align=no${SEP}dkim-alignment=fail|header.from=example.com"

# Two messages and an aborted transaction in one SMTP session: nothing of
# one message may leak into the next (the first one's forged A-R is field
# 1, so is the second one's A-R of other.example, which must stay).
mkmsg "$M/session1.in" alice@example.com session1 \
	"Authentication-Results: $AUTHSERV; dkim=pass header.d=example.com"
sign_msg "$M/session1.in" "$M/session1.eml" example.com rsa
add_case session1 "dkim=pass|header.d=example.com|policy.align=strict${SEP}dkim-alignment=aligned-pass|header.from=example.com"
mkmsg "$M/session2.eml" bob@example.org session2 \
	"Authentication-Results: other.example; dkim=pass header.d=example.org"
add_case session2 "dkim=none|reason=no DKIM signature${SEP}dkim-alignment=none|header.from=example.org" other.example

# No From: at all.
mkmsg "$M/nofrom.in" alice@example.com nofrom
grep -v '^From:' "$M/nofrom.in" >"$M/nofrom.eml"
add_case nofrom "dkim=none|reason=no DKIM signature${SEP}dkim-alignment=none|reason=no From: address|header.from="

# --- sending: everything at once, so dkimgate serves messages in parallel ---------

mkmsg "$work/local.in" alice@example.com local
send_pids=()
send sign "$signport" alice@example.com --header "Subject: dkimgate e2e signing" \
	--header "X-E2E: sign" --header "Cc: Carol <carol@example.org>" \
	--body $'Signed by dkimgate behind Postfix.\n\nSecond paragraph.\n' &
send_pids+=($!)
send sign-big "$signport" alice@example.com --header "Subject: dkimgate e2e big" \
	--header "X-E2E: sign-big" --body "@$work/big.body" &
send_pids+=($!)
send sign-other "$signport" mallory@elsewhere.example \
	--header "Subject: dkimgate e2e not in the signing table" --header "X-E2E: sign-other" &
send_pids+=($!)
send_local local "$work/local.in" &
send_pids+=($!)
(
	"$py" "$check" session "$verifyport" sender@client.example rcpt@example.org \
		"$M/session1.eml" "$M/session2.eml" >"$work/send.session" 2>&1
	for n in session1 session2; do
		awk -F'\t' -v f="$M/$n.eml" '$1 == f { print $2 }' "$work/send.session" >"$work/qid.$n"
		cp "$work/send.session" "$work/send.$n"
	done
) &
send_pids+=($!)
for name in "${cases[@]}"; do
	case $name in session?) continue ;; esac
	[ -f "$M/$name.eml" ] || { not_ok "$name: no test message"; continue; }
	send "$name" "$verifyport" sender@client.example --data "@$M/$name.eml" &
	send_pids+=($!)
done
# Not a bare "wait": dkimgate and smtp-sink are children too.
wait "${send_pids[@]}"

# --- 1. signing ------------------------------------------------------------------

# The DKIM-Signatures dkimgate makes for alice@example.com, as python3-dkim
# reports them (d/s/result in header order).
three="example.com/rsa/pass example.com/ed/pass esp.example.net/cust42/pass "
got_signed=()
for name in sign sign-big local; do
	received "$name" && got_signed+=("$work/got.$name.eml")
done
[ ${#got_signed[@]} -gt 0 ] &&
	"$py" "$check" dkimpy "$dnsport" "${got_signed[@]}" >"$work/dkimpy.out" 2>&1
# dkimpy_of NAME: python3-dkim's lines for got.NAME.eml, FILE column dropped.
dkimpy_of() {
	awk -F'\t' -v f="$work/got.$1.eml" '$1 == f' "$work/dkimpy.out" | cut -f2- >"$work/$1.dkimpy"
	# A Python error is not per file: keep it visible.
	[ -s "$work/$1.dkimpy" ] || tail -3 "$work/dkimpy.out" >"$work/$1.dkimpy"
}
if [ -f "$work/got.sign.eml" ]; then
	G=$work/got.sign.eml
	dkimpy_of sign
	sigs=$(grep -ci '^DKIM-Signature:' "$G")
	[ "$sigs" = 3 ] && ok "signing port: the delivered message carries 3 DKIM-Signatures" ||
		not_ok "signing port: $sigs DKIM-Signatures, expected 3"
	if grep -qi "^Authentication-Results: *$AUTHSERV" "$G"; then
		not_ok "signing port: dkimgate added an Authentication-Results to outgoing mail"
	else
		ok "signing port: no Authentication-Results on outgoing mail"
	fi
	got=$(cut -f2,3,5 "$work/sign.dkimpy" | tr '\t\n' '/ ')
	[ "$got" = "$three" ] &&
		ok "python3-dkim verifies the 3 signatures (example.com rsa + ed25519, esp.example.net)" ||
		not_ok "python3-dkim on the signed message: $(tr '\n\t' '  ' <"$work/sign.dkimpy")"
	# Mail::DKIM
	perl "$mdkim" "$dnsport" "$G" >"$work/sign.mdkim" 2>&1
	rsa_res=$(awk -F'\t' '$2 == "example.com" && $3 == "rsa" { print $5 }' "$work/sign.mdkim")
	esp_res=$(awk -F'\t' '$2 == "esp.example.net" { print $5 }' "$work/sign.mdkim")
	ed_line=$(awk -F'\t' '$2 == "example.com" && $3 == "ed" { print $5 "\t" $6 }' "$work/sign.mdkim")
	if [ "$rsa_res" = pass ] && [ "$esp_res" = pass ]; then
		ok "Mail::DKIM verifies the RSA signatures (example.com, esp.example.net)"
	else
		not_ok "Mail::DKIM on the RSA signatures: $(tr '\n\t' '  ' <"$work/sign.mdkim")"
	fi
	if [ $mdkim_ed25519 = 1 ]; then
		[ "${ed_line%%$'\t'*}" = pass ] && ok "Mail::DKIM verifies the Ed25519 signature" ||
			not_ok "Mail::DKIM on the Ed25519 signature: $ed_line"
	elif [ "$ed_line" = $'invalid\tinvalid (unsupported algorithm ed25519-sha256)' ]; then
		ok "Mail::DKIM $(perl -MMail::DKIM -e 'print $Mail::DKIM::VERSION') gives its known 'unsupported algorithm ed25519-sha256' for the Ed25519 signature"
	else
		not_ok "Mail::DKIM (no Ed25519) on the Ed25519 signature: expected 'invalid (unsupported algorithm ed25519-sha256)', got '$ed_line'"
	fi
	# dkimctl verify, its Authentication-Results parsed too.
	"$dkimctl" verify --resolver "127.0.0.1@$dnsport" --trust-anchor "$anchors" \
		--authserv-id "$AUTHSERV" "$G" >"$work/sign.dkimctl" 2>&1
	if r=$("$py" "$check" arvalue "$work/sign.dkimctl" "$AUTHSERV" \
		'dkim=pass|header.d=example.com|header.s=rsa|header.a=rsa-sha256' \
		'dkim=pass|header.d=example.com|header.s=ed|header.a=ed25519-sha256' \
		'dkim=pass|header.d=esp.example.net|header.s=cust42|header.a=rsa-sha256'); then
		ok "dkimctl verify: 3 x pass ($r)"
	else
		not_ok "dkimctl verify on the signed message: $r: $(tr '\n' ' ' <"$work/sign.dkimctl")"
	fi
	if grep -q "signed rule=\"daemon name ORIGINATING\" from=alice@example.com signatures=example.com/rsa,example.com/ed,esp.example.net/cust42" "$work/dkimgate.log"; then
		ok "dkimgate logs the signing decision and the 3 signatures"
	else
		not_ok "dkimgate log lacks the signed line: $(grep ' signed \| not-signed ' "$work/dkimgate.log" | tr '\n' ' ')"
	fi
fi
if [ -f "$work/got.sign-big.eml" ]; then
	dkimpy_of sign-big
	got=$(cut -f2,3,5 "$work/sign-big.dkimpy" | tr '\t\n' '/ ')
	size=$(wc -c <"$work/got.sign-big.eml")
	if [ "$got" = "$three" ] && [ "$size" -gt 250000 ]; then
		ok "signing port, $size-byte message with dot lines: python3-dkim verifies the 3 signatures"
	else
		not_ok "signing port, big message ($size bytes): $(tr '\n\t' '  ' <"$work/sign-big.dkimpy")"
	fi
fi
if [ -f "$work/got.local.eml" ]; then
	dkimpy_of local
	got=$(cut -f2,3,5 "$work/local.dkimpy" | tr '\t\n' '/ ')
	[ "$got" = "$three" ] &&
		ok "local submission (sendmail, non_smtpd_milters) signed 3 times; python3-dkim verifies all" ||
		not_ok "local submission (sendmail, non_smtpd_milters): $(tr '\n\t' '  ' <"$work/local.dkimpy")"
fi
if received sign-other; then
	if grep -qi '^DKIM-Signature:' "$work/got.sign-other.eml"; then
		not_ok "signing port: a From outside the signing table was signed"
	elif grep -q 'not-signed rule="daemon name ORIGINATING" from=mallory@elsewhere.example' "$work/dkimgate.log"; then
		ok "signing port: a From outside the signing table goes out unsigned (logged not-signed)"
	else
		not_ok "signing port: no not-signed log line for mallory@elsewhere.example"
	fi
fi

# --- 2. verifying --------------------------------------------------------------------

# The three-signature message of step 1, passed on to the verifying port.
if [ -f "$work/got.sign.eml" ]; then
	tr -d '\r' <"$work/got.sign.eml" >"$M/resign.eml"
	add_case resign "dkim=pass|header.d=example.com|header.s=rsa|policy.align=strict${SEP}dkim=pass|header.d=example.com|header.s=ed|policy.align=strict${SEP}dkim=pass|header.d=esp.example.net|header.s=cust42|header.from=example.com|policy.align=no${SEP}dkim-alignment=aligned-pass|header.from=example.com"
	send resign "$verifyport" alice@example.com --data "@$M/resign.eml"
fi

# One e2e-check.py run for all: NAME<TAB>FILE<TAB>KEEP<TAB>EXPECTs.
: >"$work/ar.batch"
for name in "${cases[@]}"; do
	received "$name" || continue
	printf '%s\t%s\t%s\t%s\n' "$name" "$work/got.$name.eml" "${keep_of[$name]}" \
		"${expect_of[$name]}" >>"$work/ar.batch"
done
"$py" "$check" arbatch "$AUTHSERV" "$work/ar.batch" >"$work/ar.out" 2>&1
for name in "${cases[@]}"; do
	grep -q "^$name	" "$work/ar.batch" || continue
	line=$(grep "^$name	" "$work/ar.out")
	case $line in
	"$name	ok	"*) ok "verify $name: ${line#*	ok	}" ;;
	"$name	fail	"*)
		not_ok "verify $name: ${line#*	fail	}"
		grep -i -A8 '^Authentication-Results:' "$work/got.$name.eml" | head -20 | sed 's/^/#   /' ;;
	*)
		not_ok "verify $name: no answer from e2e-check.py: $(tail -3 "$work/ar.out" | tr '\n' ' ')"
		grep -i -A8 '^Authentication-Results:' "$work/got.$name.eml" | head -20 | sed 's/^/#   /' ;;
	esac
done
# Comments are not results (authres drops them): read them from the field.
ar_comment() { grep -i -A12 "^Authentication-Results: $AUTHSERV" "$work/got.$1.eml" | tr -d '\r\n\t'; }
if [ -f "$work/got.dnssec.eml" ]; then
	c=$(ar_comment dnssec)
	[[ $c == *"dkim=pass (rsa 2048-bit key; DNSSEC secure)"* ]] &&
		ok "verify dnssec: the comment says rsa 2048-bit key; DNSSEC secure" ||
		not_ok "verify dnssec: comment lacks 'rsa 2048-bit key; DNSSEC secure': $c"
fi
if [ -f "$work/got.pass.eml" ]; then
	c=$(ar_comment pass)
	[[ $c == *"dkim=pass (ed25519 256-bit key; DNSSEC insecure)"* && $c == *"dkim=pass (rsa 2048-bit key; DNSSEC insecure)"* ]] &&
		ok "verify pass: comments give key type, size and DNSSEC insecure" ||
		not_ok "verify pass: comments lack the key and DNSSEC facts: $c"
fi
if [ -f "$work/got.longheader.eml" ]; then
	x=$(awk '/^X-Long:/ { p = 1; print; next } p && /^[ \t]/ { print; next } { p = 0 }' "$work/got.longheader.eml" | tr -cd x | wc -c)
	[ "$x" = 50000 ] && ok "verify longheader: the 51 KB field arrives whole" ||
		not_ok "verify longheader: the field arrives with $x of its 50000 x"
fi
# removed_ar=N in dkimgate's "verified" log line of message NAME.
removed_of() {
	sed -n "s/^.* $(cat "$work/qid.$1" 2>/dev/null): verified .* removed_ar=\([0-9]*\) .*/\1/p" \
		"$work/dkimgate.log"
}
if [ -f "$work/got.forged.eml" ]; then
	n=$(grep -ci '^Authentication-Results:' "$work/got.forged.eml")
	r=$(removed_of forged)
	[ "$n" = 2 ] && [ "$r" = 2 ] &&
		ok "verify forged: the 2 forged fields are gone, other.example's kept, log says removed_ar=2" ||
		not_ok "verify forged: $n Authentication-Results fields left, log says removed_ar=$r"
fi
if [ -f "$work/got.session1.eml" ] && [ -f "$work/got.session2.eml" ]; then
	r1=$(removed_of session1) r2=$(removed_of session2)
	[ "$r1" = 1 ] && [ "$r2" = 0 ] &&
		ok "verify session: removed_ar=1 for the first message, 0 for the second (no state carried over)" ||
		not_ok "verify session: removed_ar=$r1 and $r2, expected 1 and 0"
fi

# --- 3. loopback only ----------------------------------------------------------------

pids=("$master_pid" "$sink_pid" "$dkimgate_pid" "$(cat "$work/dns/unbound.pid" 2>/dev/null)")
# Postfix's smtpd and friends are master's children.
for p in $(pgrep -P "$master_pid" 2>/dev/null); do pids+=("$p"); done
bad=$(ss -H -ltunp 2>/dev/null | while read -r proto _ _ _ local _ users; do
	for p in "${pids[@]}"; do
		[ -n "$p" ] || continue
		case $users in *"pid=$p,"*) case $local in 127.0.0.1:*) ;; *) echo "$proto $local $users" ;; esac ;; esac
	done
done)
listening=$(ss -H -ltnp 2>/dev/null | grep -c "pid=\($master_pid\|$sink_pid\|$(cat "$work/dns/unbound.pid" 2>/dev/null)\),")
if [ -z "$bad" ] && [ "$listening" -ge 4 ]; then
	ok "all $listening listening TCP sockets of Postfix, smtp-sink and the DNS server are on 127.0.0.1; dkimgate listens on a unix socket only"
else
	not_ok "sockets beyond 127.0.0.1 (or too few listeners, $listening): $bad"
fi

# --- 4. shutdown ------------------------------------------------------------------------

# SIGTERM: dkimgate drains (nothing is in flight now) and exits 0.
kill -TERM "$dkimgate_pid" 2>/dev/null
stop_postfix
t0=$SECONDS
while alive "$dkimgate_pid" && [ $((SECONDS - t0)) -lt 15 ]; do sleep 0.1; done
if alive "$dkimgate_pid"; then
	not_ok "dkimgate still runs 15 s after SIGTERM"
else
	wait "$dkimgate_pid"
	rc=$?
	dkimgate_pid=''
	if [ $rc = 0 ] && grep -q 'stopped inflight=0' "$work/dkimgate.log"; then
		ok "dkimgate exits 0 on SIGTERM within $((SECONDS - t0)) s (log: stopped inflight=0)"
	else
		not_ok "dkimgate on SIGTERM: exit status $rc, log: $(tail -2 "$work/dkimgate.log" | tr '\n' ' ')"
	fi
fi

# --- summary --------------------------------------------------------------------------------

elapsed=''
[ -n "$start_time" ] && elapsed=$(awk -v a="$start_time" -v b="$EPOCHREALTIME" 'BEGIN { printf " in %.1f s", b - a }')
echo "# $npass passed, $nfail failed$elapsed"
[ "$nfail" -eq 0 ]
