# proto-lib.sh - shared set-up and helpers of t/proto/run-*.sh (sourced).
#
# Defines the programs (DKIMGATE, DKIMCTL, MILTERCLIENT: environment
# overrides, else $top_builddir/...), the ok/not ok reporting, a work
# directory with clean-up at exit (dkimgate and the test DNS server are
# stopped by PID), key and DNS record helpers, and wrappers around
# t/milterclient and dkimctl.  The caller sets nothing before sourcing but
# calls proto_setup NAME once, then start_dkimgate after writing $conf.

start_time=$(date +%s.%N)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
# shellcheck source=../lib/proc.sh
. "$top_srcdir/t/lib/proc.sh"
top_builddir=${top_builddir:-$top_srcdir}
DKIMGATE=${DKIMGATE:-$top_builddir/dkimgate}
DKIMCTL=${DKIMCTL:-$top_builddir/dkimctl}
MILTERCLIENT=${MILTERCLIENT:-$top_builddir/t/milterclient}
testdns=$top_srcdir/t/dns/testdns
py=/usr/bin/python3	# Debian's: authres and dkim are Debian packages
pcheck=$here/proto-check.py
PATH=$PATH:/usr/sbin:/sbin
AUTHSERV=mx.example.org

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
die() { not_ok "$*"; exit 1; }
# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# expect_eq DESCRIPTION GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}
# secs START END: seconds between two "date +%s.%N" stamps, one decimal.
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		not_ok "$* (CI=true: nothing may be skipped)"
		exit 1
	fi
	echo "# SKIP: $*"
	exit 77
}

# proto_require: the tools every run-*.sh needs; skip (77) without them.
proto_require() {
	local missing=() t p
	for t in openssl unbound dig perl awk; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	[ -x "$py" ] && "$py" -c 'import authres, dkim' 2>/dev/null ||
		missing+=("python3-authres/python3-dkim")
	[ ${#missing[@]} -eq 0 ] || skip_or_fail "missing ${missing[*]}"
	for p in "$DKIMGATE" "$DKIMCTL" "$MILTERCLIENT"; do
		[ -x "$p" ] || die "$p not built (make && make t/milterclient)"
	done
}



dg_pid='' bg_pids=()
proto_cleanup() {
	local p
	for p in "${bg_pids[@]}"; do stop_pid "$p" 20; done
	stop_pid "$dg_pid"
	"$testdns" stop "$work/dns" >/dev/null 2>&1
	if [ "$nfail" -gt 0 ]; then
		echo "# --- dkimgate log (last 40 lines) ---"
		tail -n 40 "$log" 2>/dev/null | cut -c1-400 | sed 's/^/# /'
	fi
	if [ "${KEEP:-}" = 1 ]; then
		echo "# kept $work"
	else
		rm -rf "$work"
	fi
}

# proto_setup NAME: work directory (short: the socket path must fit
# sun_path), clean-up trap, key directory K.
proto_setup() {
	local tmp=${TMPDIR:-/tmp}
	[ ${#tmp} -gt 40 ] && tmp=/tmp
	work=$(mktemp -d "$tmp/dkimgate-$1.XXXXXX") || exit 1
	sock=$work/dkimgate.sock
	log=$work/dkimgate.log
	conf=$work/dkimgate.conf
	O=$work/out
	M=$work/msg
	K=$work/keys
	mkdir -p "$O" "$M"
	mkdir -m 700 "$K"
	trap proto_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

# genkey rsa|ed NAME: $K/NAME.pem, mode 0600.
genkey() {
	if [ "$1" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$K/$2.pem" 2>/dev/null
	else
		openssl genpkey -algorithm ED25519 -out "$K/$2.pem" 2>/dev/null
	fi || die "openssl genpkey $1"
	chmod 600 "$K/$2.pem"
}
# rsa_rec / ed_rec PEM: the key's DKIM TXT record.
rsa_rec() { printf 'v=DKIM1; k=rsa; p=%s' "$(openssl pkey -in "$1" -pubout -outform DER | base64 -w0)"; }
ed_rec() {
	printf 'v=DKIM1; k=ed25519; p=%s' \
		"$(openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0)"
}

# start_dkimgate: check $conf with -n, run dkimgate -f on it (log: $log),
# wait for the socket.
start_dkimgate() {
	"$DKIMGATE" -n -c "$conf" >/dev/null 2>"$work/check.err" ||
		die "dkimgate -n refuses the test configuration: $(cat "$work/check.err")"
	"$DKIMGATE" -f -c "$conf" 2>"$log" &
	dg_pid=$!
	for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.05; done
	[ -S "$sock" ] || die "dkimgate did not create its socket"
}

# mc NAME [milterclient options] FILE...: one milterclient run; the action
# lines go to $O/NAME.out, stderr to $O/NAME.err, the status to mc_rc.
mc() {
	local name=$1
	shift
	logmark=$(wc -l <"$log")
	"$MILTERCLIENT" -s "unix:$sock" -t 60 "$@" >"$O/$name.out" 2>"$O/$name.err"
	mc_rc=$?
	return 0
}
# Log lines written since the last mc.
newlog() { tail -n "+$((logmark + 1))" "$log"; }
# count NAME REGEX: lines of $O/NAME.out matching REGEX.
count() { grep -Ec -- "$2" "$O/$1.out"; }
nsigs() { count "$1" 'insheader idx=0 name=DKIM-Signature '; }
nars() { count "$1" 'insheader .*name=Authentication-Results '; }
# verdict NAME [MSG]: the verdict of message MSG (default 1).
verdict() { sed -n "s/^msg=${2:-1} verdict=//p" "$O/$1.out" | head -n 1; }
# selectors NAME: d/s of the signatures inserted, in the order they end up
# in the header: each goes to index 0, so the last one inserted is on top.
selectors() {
	"$py" "$pcheck" sigs "$O/$1.out" | sed -n 's/^msg=[0-9]* d=\([^ ]*\) s=\([^ ]*\) .*/\1\/\2/p' |
		tac | tr '\n' ' ' | sed 's/ $//'
}
# dkverify FILE N: dkimctl verify finds exactly N signatures, all pass.
dkverify() {
	local r np nall
	r=$("$DKIMCTL" verify --resolver "$resolver" --authserv-id "$AUTHSERV" "$1" 2>&1) || {
		echo "# dkimctl verify $1: $r"
		return 1
	}
	np=$(grep -o 'dkim=pass' <<<"$r" | wc -l)
	nall=$(grep -o 'dkim=[a-z]*' <<<"$r" | wc -l)
	[ "$np" -eq "$2" ] && [ "$nall" -eq "$2" ] && return 0
	echo "# dkimctl verify $1: $np pass of $nall, expected $2:"
	sed 's/^/#   /' <<<"$r"
	return 1
}
# archeck NAME EXPECT...: proto-check.py ar on $O/NAME.out.
archeck() {
	local name=$1
	shift
	"$py" "$pcheck" ar "$O/$name.out" "$AUTHSERV" "$@" >"$O/$name.ar" 2>&1 && return 0
	sed 's/^/# /' "$O/$name.ar" | cut -c1-600
	return 1
}
still_alive() { alive "$dg_pid" || die "dkimgate (pid $dg_pid) died: $1"; }

# sanitizer_report: not ok when the daemon log holds a sanitizer report.
sanitizer_report() {
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$log"; then
		not_ok "sanitizer report in the daemon log"
		grep -E -A12 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' "$log" |
			head -n 40 | sed 's/^/# /'
	else
		ok "no sanitizer report in the daemon log"
	fi
}

# proto_finish: summary line; the exit status of the test.
proto_finish() {
	echo "# $npass passed, $nfail failed, $(secs "$start_time" "$(date +%s.%N)") s"
	[ "$nfail" -eq 0 ]
}
