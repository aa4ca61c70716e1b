#!/usr/bin/env bash
# run-daemon-bench.sh - the daemon benchmark: dkimgate against OpenDKIM.
#
# usage: t/bench/run-daemon-bench.sh [--quick] [-o FILE] [-r REPS] [-T SECS]
#            [--transport unix|tcp|both] [--quickack] [--sizes 2k,100k,10m]
#            [--conc 1,4,16] [--cases sign-rsa,sign-ed,verify-rsa,verify-ed]
#
# One client, t/milterclient in bench mode, plays the MTA against both
# milters on this machine: dkimgate (this build) and Debian's opendkim, with
# the same keys, the same messages, on the same transport, runs interleaved
# (dkimgate, opendkim, opendkim, dkimgate, ...), the median of REPS
# repetitions kept. For each case (signing with rsa-sha256 or ed25519-sha256,
# verifying an rsa-sha256 signature; 2 KB, 100 KB and 10 MB messages;
# 1, 4 and 16 concurrent connections, 10 messages per connection) it reports
# messages per second, p50/p99 latency, the daemon's CPU milliseconds per
# message (utime+stime of the daemon from /proc/PID/stat around each run), and
# for each message size the daemons' peak RSS (VmHWM; both daemons are
# restarted per size so the figure belongs to that size). `openssl speed`
# gives the raw signature cost that dkimgate's signing CPU is compared with.
# The keys are served by t/dns/testdns (a DNSSEC-signed zone on 127.0.0.1);
# everything runs on loopback, as root or not.
#
#   --quick       smoke run (about 90 s): 1 s runs, one repetition
#   -o FILE       also write machine-readable "bench ..." lines to FILE
#   -r REPS       repetitions per case and daemon (default 3; quick 1)
#   -T SECS       whole seconds per run (default 2, 3 for 10 MB; quick 1)
#   --transport   unix sockets (default), TCP on 127.0.0.1, or both
#   --quickack    TCP: the client ACKs at once (hides libmilter's Nagle
#                 stall, which a real MTA does suffer)
#   --keep        keep the work directory (configs, messages, daemon logs)
#
# It builds nothing: run `make && make t/milterclient` first. The binaries
# are copied to the work directory so that a rebuild during the run does not
# disturb it. A benchmark, not a test: it reports the targets of the issue as
# PASS/MISS and exits 0 when everything ran, 1 when something could not run,
# 2 on a usage error. Progress goes to stderr, the table to stdout.
set -euo pipefail

usage() {
	sed -n '4,6p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/../.." && pwd)}
srctop=$(cd "$here/../.." && pwd)

quick='' outfile='' reps='' secs='' transports=unix quickack='' keep=''
sizes=2k,100k,10m concs=1,4,16 cases=sign-rsa,sign-ed,verify-rsa
while [ $# -gt 0 ]; do
	case $1 in
	--quick) quick=1; shift ;;
	-o) [ $# -ge 2 ] || usage; outfile=$2; shift 2 ;;
	-r) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	-T) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	--transport) [ $# -ge 2 ] || usage; transports=$2; shift 2 ;;
	--quickack) quickack=--quickack; shift ;;
	--sizes) [ $# -ge 2 ] || usage; sizes=$2; shift 2 ;;
	--conc) [ $# -ge 2 ] || usage; concs=$2; shift 2 ;;
	--cases) [ $# -ge 2 ] || usage; cases=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	-h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) usage ;;
	esac
done
case $transports in
unix) transports="unix" ;;
tcp) transports="tcp" ;;
both) transports="unix tcp" ;;
*) usage ;;
esac
[[ $reps =~ ^[0-9]*$ ]] || usage
[[ $secs =~ ^([1-9][0-9]*)?$ ]] || usage	# milterclient -T takes whole seconds
IFS=, read -r -a size_list <<<"$sizes"
IFS=, read -r -a conc_list <<<"$concs"
IFS=, read -r -a case_list <<<"$cases"
for s in "${size_list[@]}"; do [[ $s =~ ^(2k|100k|10m)$ ]] || usage; done
for c in "${conc_list[@]}"; do [[ $c =~ ^[1-9][0-9]*$ ]] || usage; done
for c in "${case_list[@]}"; do [[ $c =~ ^(sign-rsa|sign-ed|verify-rsa|verify-ed)$ ]] || usage; done
if [ -n "$quick" ]; then
	reps=${reps:-1}
else
	reps=${reps:-3}
fi
[ "$reps" -ge 1 ] || usage

say() { echo "run-daemon-bench: $*" >&2; }
die() { say "$*"; exit 1; }

PATH=$PATH:/usr/sbin:/sbin
for p in opendkim openssl perl unbound; do
	command -v "$p" >/dev/null 2>&1 || die "$p not found"
done
for f in dkimgate dkimctl t/milterclient; do
	[ -x "$top/$f" ] || die "$top/$f is not built; run make && make t/milterclient"
done

work=$(mktemp -d /tmp/dkimgate-daemon-bench.XXXXXX)
chmod 700 "$work"
dns_started='' dg_pid='' od_pid='' ode_pid='' child_pid=''

# stop_pids PID...: stop only what this script started, by PID, all at
# once (opendkim takes seconds to leave after SIGTERM), SIGKILL after 10 s.
stop_pids() {
	local pid live
	for pid in "$@"; do
		[ -z "$pid" ] || kill -TERM "$pid" 2>/dev/null || true
	done
	for _ in $(seq 200); do
		live=
		for pid in "$@"; do
			[ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null || live=1
		done
		[ -n "$live" ] || break
		sleep 0.05
	done
	for pid in "$@"; do
		[ -n "$pid" ] || continue
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pids "$child_pid" "$dg_pid" "$od_pid" "$ode_pid"
	[ -z "$dns_started" ] || "$srctop/t/dns/testdns" stop "$work/dns" >/dev/null 2>&1 || true
	if [ -n "$keep" ]; then
		say "work directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Private copies: others may rebuild the tree while this runs.
mkdir -p "$work/bin"
cp "$top/dkimgate" "$top/dkimctl" "$top/t/milterclient" "$work/bin/"
DG=$work/bin/dkimgate DKIMCTL=$work/bin/dkimctl MC=$work/bin/milterclient
OD=$(command -v opendkim)
tck=$(getconf CLK_TCK)

# run_child OUT CMD...: run CMD in the background with its output in OUT,
# so that cleanup can stop it, and wait for it.
run_child() {
	local out=$1 rc=0
	shift
	"$@" >"$out" 2>&1 &
	child_pid=$!
	wait "$child_pid" || rc=$?
	child_pid=
	return "$rc"
}

# ---- keys and DNS ----
rsa_dom=bench-rsa.example ed_dom=bench-ed.example sel=bench
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rsa.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$work/ed.pem" 2>/dev/null
chmod 600 "$work/rsa.pem" "$work/ed.pem"
rsa_p=$(openssl pkey -in "$work/rsa.pem" -pubout -outform DER | base64 -w0)
ed_p=$(openssl pkey -in "$work/ed.pem" -pubout -outform DER | tail -c 32 | base64 -w0)
printf '%s\tTXT\t%s\n' \
	"$sel._domainkey.$rsa_dom" "v=DKIM1; k=rsa; p=$rsa_p" \
	"$sel._domainkey.$ed_dom" "v=DKIM1; k=ed25519; p=$ed_p" \
	"_dmarc.$rsa_dom" "v=DMARC1; p=none; adkim=r" \
	"_dmarc.$ed_dom" "v=DMARC1; p=none; adkim=r" >"$work/records.tsv"
# Long TTLs: the caches must not expire in the middle of a run.
dns_started=1
port=$(TESTDNS_TTL=86400 "$srctop/t/dns/testdns" start "$work/dns" \
	--signed "$rsa_dom" --signed "$ed_dom" "$work/records.tsv") ||
	die "cannot start the test DNS server"

# ---- messages ----
# The header of a message From: an address at DOMAIN, with BYTES in its id.
gen_header() {
	local dom=$1 bytes=$2
	printf '%s\r\n' \
		"Received: from client.example.net (client.example.net [192.0.2.25])" \
		"	by mx.example.test (Postfix) with ESMTPS id 4Qx1Yz2abc" \
		"	for <bob@example.net>; Mon, 3 Jun 2024 10:00:00 +0000" \
		"From: Alice Example <alice@$dom>" \
		"To: Bob Example <bob@example.net>" \
		"Cc: Carol <carol@example.org>" \
		"Subject: Quarterly report and the schedule for the review meeting" \
		"Date: Mon, 3 Jun 2024 10:00:00 +0000" \
		"Message-ID: <bench.$bytes@$dom>" \
		"MIME-Version: 1.0" \
		"Content-Type: text/plain; charset=utf-8" \
		"Content-Transfer-Encoding: 8bit" \
		""
}

# A body that makes a whole message of about BYTES with that header:
# realistic text, a deterministic stream of words in lines of 50 to 76
# characters, paragraphs, quoted parts and the odd trailing blank, CRLF.
gen_body() {
	local bytes=$1
	perl -e '
		my ($bytes) = @ARGV;
		my @w = qw(the of and to in is that for it as was with be by on not he
		    this are or his from at which but have an they you were her she
		    there been one all we their has would when if so no will more
		    other about out up into than them can only some could these two
		    may first then do any like my now over such our man me even most
		    made after also did many before must through back years where much
		    your way well down should because each just those people how too
		    message delivery server account invoice meeting schedule report
		    attached please regards thanks project review quarterly budget
		    customer support release update security network configuration);
		my $seed = 12345;
		sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; $seed }
		my $n = 560;	# the header
		my $line = "";
		my $quote = 0;
		while ($n < $bytes) {
			my $word = $w[rnd() % @w];
			if (length($line) + length($word) + 1 > 50 + rnd() % 27) {
				$line = "> $line" if $quote;
				$line .= " " if rnd() % 40 == 0;
				$line .= "\r\n";
				$line .= "\r\n" if rnd() % 8 == 0;
				$quote = !$quote if rnd() % 30 == 0;
				print $line;
				$n += length $line;
				$line = "";
			}
			$line .= ($line eq "" ? "" : " ") . $word;
		}
		print "$line\r\n" if $line ne "";
	' "$bytes"
}

size_bytes() {
	case $1 in
	2k) echo 2048 ;;
	100k) echo 102400 ;;
	10m) echo 10485760 ;;
	esac
}

say "generating messages"
for s in "${size_list[@]}"; do
	b=$(size_bytes "$s")
	gen_body "$b" >"$work/body-$s"
	{ gen_header "$rsa_dom" "$b"; cat "$work/body-$s"; } >"$work/sign-rsa-$s.eml"
	{ gen_header "$ed_dom" "$b"; cat "$work/body-$s"; } >"$work/sign-ed-$s.eml"
	rm "$work/body-$s"
	"$DKIMCTL" sign -d "$rsa_dom" -s "$sel" -k "$work/rsa.pem" "$work/sign-rsa-$s.eml" \
		>"$work/verify-rsa-$s.eml" || die "dkimctl sign failed"
	"$DKIMCTL" sign -a ed25519-sha256 -d "$ed_dom" -s "$sel" -k "$work/ed.pem" \
		"$work/sign-ed-$s.eml" >"$work/verify-ed-$s.eml" || die "dkimctl sign failed"
done

# ---- daemons ----
sign_client=10.1.2.3
verify_client=192.0.2.25

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

cpu_ticks() {
	# utime + stime: fields 14 and 15, counted after the ")" of the name.
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

vmhwm_kb() {
	awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status"
}

# wait_ready PID SPEC NAME: until the socket accepts, or the process dies.
wait_ready() {
	local pid=$1 spec=$2 name=$3
	for _ in $(seq 200); do
		kill -0 "$pid" 2>/dev/null || die "$name exited at start-up; see its log:
$(tail -n 20 "$work/$name.log")"
		case $spec in
		unix:*) [ -S "${spec#unix:}" ] && return 0 ;;
		inet:*) local p=${spec#inet:}; p=${p%@*}
			(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0 ;;
		esac
		sleep 0.05
	done
	die "$name did not start listening on $spec"
}

# start_daemons TRANSPORT TAG: fresh dkimgate and opendkim, same transport.
# OpenDKIM 2.11 has one signature algorithm per process (SignatureAlgorithm;
# its KeyTable has no per-key algorithm), so ed25519 signing gets a second
# opendkim, started only when a sign-ed case runs.
start_daemons() {
	local tr=$1 tag=$2 dg_spec od_spec ode_spec
	if [ "$tr" = unix ]; then
		dg_spec=unix:$work/dg-$tag.sock
		od_spec=unix:$work/od-$tag.sock
		ode_spec=unix:$work/ode-$tag.sock
	else
		dg_spec=inet:$(free_port)@127.0.0.1
		od_spec=inet:$(free_port)@127.0.0.1
		ode_spec=inet:$(free_port)@127.0.0.1
	fi
	cat >"$work/dkimgate.conf" <<EOF
socket = "$dg_spec";
log = "stderr";
authserv_id = "mx.example.test";
keys = (
  { id = "rsa"; domain = "$rsa_dom"; selector = "$sel"; file = "$work/rsa.pem"; },
  { id = "ed"; domain = "$ed_dom"; selector = "$sel"; file = "$work/ed.pem"; }
);
signing_table = (
  { from = "$rsa_dom"; keys = [ "rsa" ]; },
  { from = "$ed_dom"; keys = [ "ed" ]; }
);
sign = { internal_networks = [ "10.0.0.0/8" ]; canonicalization = "relaxed/relaxed"; };
dns = { resolver = "127.0.0.1@$port"; trust_anchor = "$work/dns/trust-anchors"; timeout = 5; };
EOF
	printf 'rsa %s:%s:%s\ned %s:%s:%s\n' "$rsa_dom" "$sel" "$work/rsa.pem" \
		"$ed_dom" "$sel" "$work/ed.pem" >"$work/od-keytable"
	printf '*@%s rsa\n*@%s ed\n' "$rsa_dom" "$ed_dom" >"$work/od-signingtable"
	printf '10.0.0.0/8\n' >"$work/od-internal"
	# The keys are 0600 in a 0700 directory, but that directory is in /tmp,
	# which opendkim's safe-key check refuses. Not ResolverConfiguration (a
	# libunbound config file): this opendkim reads that file again for every
	# message, and libunbound's parser is not thread-safe, so it tempfails
	# and then crashes at concurrency 4; Nameservers takes ADDR@PORT too.
	cat >"$work/opendkim.conf" <<EOF
Syslog no
Background no
Mode sv
Canonicalization relaxed/relaxed
KeyTable file:$work/od-keytable
SigningTable refile:$work/od-signingtable
InternalHosts file:$work/od-internal
AuthservID mx.example.test
Nameservers 127.0.0.1@$port
TrustAnchorFile $work/dns/trust-anchors
SoftwareHeader no
RequireSafeKeys no
EOF
	{ cat "$work/opendkim.conf"; echo "Socket ${od_spec/#unix:/local:}"; } >"$work/od-rsa.conf"
	{ cat "$work/opendkim.conf"; echo "Socket ${ode_spec/#unix:/local:}"
	  echo "SignatureAlgorithm ed25519-sha256"; } >"$work/od-ed.conf"
	"$DG" -f -c "$work/dkimgate.conf" 2>"$work/dkimgate.log" &
	dg_pid=$!
	"$OD" -x "$work/od-rsa.conf" >"$work/opendkim.log" 2>&1 &
	od_pid=$!
	if [[ ,$cases, == *,sign-ed,* ]]; then
		"$OD" -x "$work/od-ed.conf" >"$work/opendkim-ed.log" 2>&1 &
		ode_pid=$!
		wait_ready "$ode_pid" "$ode_spec" opendkim-ed
	fi
	wait_ready "$dg_pid" "$dg_spec" dkimgate
	wait_ready "$od_pid" "$od_spec" opendkim
	DG_SOCK=$dg_spec OD_SOCK=$od_spec ODE_SOCK=$ode_spec
}

# stop_daemons: records VmHWM of each first.
stop_daemons() {
	DG_HWM=$(vmhwm_kb "$dg_pid") OD_HWM=$(vmhwm_kb "$od_pid") ODE_HWM=-
	[ -z "$ode_pid" ] || ODE_HWM=$(vmhwm_kb "$ode_pid")
	stop_pids "$dg_pid" "$od_pid" "$ode_pid"
	dg_pid='' od_pid='' ode_pid=''
}

# od_for CASE: the PID and socket of the opendkim that handles CASE.
od_for() {
	if [ "$1" = sign-ed ]; then
		OD_CASE_PID=$ode_pid OD_CASE_SOCK=$ODE_SOCK
	else
		OD_CASE_PID=$od_pid OD_CASE_SOCK=$OD_SOCK
	fi
}

case_client() {
	case $1 in
	sign-*) echo "$sign_client" ;;
	*) echo "$verify_client" ;;
	esac
}

# check_case DAEMON SOCK CASE SIZE: one message, and the milter did its job.
check_case() {
	local d=$1 sock=$2 c=$3 s=$4 out alg
	out=$("$MC" -s "$sock" -c "$(case_client "$c")" "$work/$c-$s.eml" 2>&1) ||
		die "$d: $c $s: milterclient failed: $out"
	case $c in
	sign-rsa) alg=rsa-sha256 ;;
	sign-ed) alg=ed25519-sha256 ;;
	esac
	case $c in
	sign-*)
		grep -q "name=DKIM-Signature value=.*a=$alg" <<<"$out" ||
			die "$d: $c $s: no $alg DKIM-Signature added: $out" ;;
	verify-*)
		grep -q 'name=Authentication-Results value=.*dkim=pass' <<<"$out" ||
			die "$d: $c $s: no dkim=pass: $out" ;;
	esac
}

# ---- openssl speed ----
speed_secs=2
[ -z "$quick" ] || speed_secs=1
say "openssl speed -seconds $speed_secs rsa2048 ed25519"
run_child "$work/speed.out" openssl speed -mr -seconds "$speed_secs" rsa2048 ed25519 ||
	die "openssl speed failed"
read -r rsa_sign_s ed_sign_s < <(awk -F: '$1 == "+F2" && $3 == 2048 { rs = $4 }
		$1 == "+F6" && $4 == "Ed25519" { es = $5 }
		END { if (rs > 0 && es > 0) print rs, es }' "$work/speed.out")
[ -n "${ed_sign_s:-}" ] || die "cannot read openssl speed output"
rsa_raw_ms=$(awk -v r="$rsa_sign_s" 'BEGIN { printf "%.4f", 1000 / r }')
ed_raw_ms=$(awk -v r="$ed_sign_s" 'BEGIN { printf "%.4f", 1000 / r }')

# ---- runs ----
declare -A R	# "tr|size|case|conc|daemon|metric" -> space-separated values
declare -A HWM	# "tr|size|daemon" -> kB

run_secs() {
	if [ -n "$secs" ]; then echo "$secs"
	elif [ -n "$quick" ]; then echo 1
	else [ "$1" = 10m ] && echo 3 || echo 2
	fi
}

# bench_one TR SIZE CASE CONC DAEMON
bench_one() {
	local tr=$1 s=$2 c=$3 n=$4 d=$5 pid sock t0 t1 line msgs k v cpu
	if [ "$d" = dkimgate ]; then
		pid=$dg_pid sock=$DG_SOCK
	else
		od_for "$c"
		pid=$OD_CASE_PID sock=$OD_CASE_SOCK
	fi
	t0=$(cpu_ticks "$pid")
	run_child "$work/mc.out" "$MC" --bench -C "$n" -N 1000000 -T "$(run_secs "$s")" -n 10 \
		$quickack -s "$sock" -c "$(case_client "$c")" "$work/$c-$s.eml" || true
	line=$(tail -n 1 "$work/mc.out")
	t1=$(cpu_ticks "$pid")
	msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$msgs" ]; then
		say "$d $tr $s $c c=$n: no result: $line"
		return 0
	fi
	for k in msgs_per_sec p50_ms p99_ms errors tempfail; do
		v=$(sed -n "s/.* $k=\([0-9.]*\).*/\1/p" <<<"$line")
		R[$tr|$s|$c|$n|$d|$k]+="$v "
	done
	cpu=$(awk -v a="$t0" -v b="$t1" -v m="$msgs" -v t="$tck" \
		'BEGIN { if (m > 0) printf "%.4f", (b - a) / t * 1000 / m; else print "nan" }')
	R[$tr|$s|$c|$n|$d|cpu_ms]+="$cpu "
	say "  $d: $line cpu_ms/msg=$cpu"
}

median() {
	tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
		      else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

get() { median <<<"${R[$1]:-}"; }

say "$(date -u '+%Y-%m-%dT%H:%M:%SZ') $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
t_start=$(date +%s)
for tr in $transports; do
	for s in "${size_list[@]}"; do
		say "== $tr $s: starting dkimgate and opendkim"
		start_daemons "$tr" "$s"
		for c in "${case_list[@]}"; do
			# Correctness first, and the DNS caches warm.
			check_case dkimgate "$DG_SOCK" "$c" "$s"
			od_for "$c"
			check_case opendkim "$OD_CASE_SOCK" "$c" "$s"
		done
		for c in "${case_list[@]}"; do
			for n in "${conc_list[@]}"; do
				say "$tr $s $c c=$n"
				for ((r = 1; r <= reps; r++)); do
					# Alternate who goes first so neither always follows the other.
					if [ $((r % 2)) = 1 ]; then order="dkimgate opendkim"
					else order="opendkim dkimgate"; fi
					for d in $order; do
						bench_one "$tr" "$s" "$c" "$n" "$d"
					done
				done
			done
		done
		stop_daemons
		HWM[$tr|$s|dkimgate]=$DG_HWM HWM[$tr|$s|opendkim]=$OD_HWM
		HWM[$tr|$s|opendkim-ed]=$ODE_HWM
		say "$tr $s: VmHWM dkimgate=$DG_HWM kB opendkim=$OD_HWM kB opendkim-ed=$ODE_HWM kB"
	done
done
t_end=$(date +%s)

# ---- report ----
[ -z "$outfile" ] || : >"$outfile"
emit() { [ -z "$outfile" ] || echo "$*" >>"$outfile"; }

cmdline="t/bench/run-daemon-bench.sh"
[ -z "$quick" ] || cmdline+=" --quick"
cmdline+=" -r $reps --transport ${transports// /+} --sizes $sizes --conc $concs --cases $cases"
[ -z "$secs" ] || cmdline+=" -T $secs"
[ -z "$quickack" ] || cmdline+=" --quickack"

echo "run-daemon-bench: $(date -u '+%Y-%m-%dT%H:%M:%SZ') $(uname -m), $(nproc) CPUs," \
	"$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "run-daemon-bench: $cmdline; $(( t_end - t_start )) s of runs, load now $(cut -d' ' -f1-3 /proc/loadavg)"
echo "run-daemon-bench: dkimgate $("$DG" -V | awk '{ print $2 }'), $("$OD" -V | head -n 1 | sed 's/^opendkim: //')," \
	"$(openssl version | cut -d' ' -f1-2); median of $reps interleaved runs, 10 messages per connection"
printf 'run-daemon-bench: openssl speed: rsa2048 sign %.1f/s (%.3f ms), ed25519 sign %.1f/s (%.4f ms)\n' \
	"$rsa_sign_s" "$rsa_raw_ms" "$ed_sign_s" "$ed_raw_ms"
emit "bench openssl rsa2048_sign_per_sec=$rsa_sign_s ed25519_sign_per_sec=$ed_sign_s"
echo
printf '%-27s %9s %9s %6s %17s %17s %8s %8s %7s\n' "case" "dg msg/s" "od msg/s" "ratio" \
	"dg p50/p99 ms" "od p50/p99 ms" "dg cpu" "od cpu" "dg/raw"
printf '%-27s %9s %9s %6s %17s %17s %8s %8s %7s\n' "" "" "" "" "" "" "ms/msg" "ms/msg" "sign"

declare -a misses=() passes=()
target() {	# target OK TEXT
	if [ "$1" = 1 ]; then passes+=("$2"); else misses+=("$2"); fi
}
for tr in $transports; do
	for s in "${size_list[@]}"; do
		for c in "${case_list[@]}"; do
			for n in "${conc_list[@]}"; do
				k="$tr|$s|$c|$n"
				dr=$(get "$k|dkimgate|msgs_per_sec") or=$(get "$k|opendkim|msgs_per_sec")
				d50=$(get "$k|dkimgate|p50_ms") d99=$(get "$k|dkimgate|p99_ms")
				o50=$(get "$k|opendkim|p50_ms") o99=$(get "$k|opendkim|p99_ms")
				dc=$(get "$k|dkimgate|cpu_ms") oc=$(get "$k|opendkim|cpu_ms")
				de=$(get "$k|dkimgate|errors") oe=$(get "$k|opendkim|errors")
				dt=$(get "$k|dkimgate|tempfail") ot=$(get "$k|opendkim|tempfail")
				ratio=$(awk -v a="$dr" -v b="$or" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }')
				raw=
				case $c in
				sign-rsa) raw=$rsa_raw_ms ;;
				sign-ed) raw=$ed_raw_ms ;;
				esac
				cr=-
				[ -z "$raw" ] || cr=$(awk -v a="$dc" -v b="$raw" 'BEGIN { printf "%.2f", a / b }')
				name="$tr $s $c c=$n"
				if [ "$dr" = nan ] || [ "$or" = nan ]; then
					printf '%-27s no result (dkimgate %s, opendkim %s)\n' "$name" "$dr" "$or"
					target 0 "$name: no result"
					continue
				fi
				printf '%-27s %9.1f %9.1f %6s %8.2f/%-8.2f %8.2f/%-8.2f %8.3f %8.3f %7s' \
					"$name" "$dr" "$or" "$ratio" "$d50" "$d99" "$o50" "$o99" "$dc" "$oc" "$cr"
				if [ "$de$dt$oe$ot" != 0000 ]; then
					printf '  errors/tempfail dg %s/%s od %s/%s' "$de" "$dt" "$oe" "$ot"
				fi
				printf '\n'
				emit "bench transport=$tr size=$s case=$c conc=$n" \
					"dg_msgs_per_sec=$dr od_msgs_per_sec=$or ratio=$ratio" \
					"dg_p50_ms=$d50 dg_p99_ms=$d99 od_p50_ms=$o50 od_p99_ms=$o99" \
					"dg_cpu_ms=$dc od_cpu_ms=$oc dg_cpu_per_raw_sign=$cr" \
					"dg_errors=$de dg_tempfail=$dt od_errors=$oe od_tempfail=$ot"
				# The issue's targets.
				if { [ "$s" = 2k ] && [ "$n" -ge 4 ]; } || { [ "$s" = 10m ] && [ "$n" = 1 ]; }; then
					target "$(awk -v r="$ratio" 'BEGIN { print (r >= 3) }')" \
						"$name: msgs/s ratio $ratio (target >= 3)"
				fi
				if [ "$cr" != - ] && [ "$s" = 2k ]; then
					target "$(awk -v r="$cr" 'BEGIN { print (r <= 1.5) }')" \
						"$name: CPU/raw sign $cr ($dc ms vs $raw ms; target <= 1.5)"
				fi
				target "$(awk -v a="$d99" -v b="$o99" 'BEGIN { print (a <= b) }')" \
					"$name: p99 $d99 ms vs opendkim $o99 ms (target <=)"
				[ "$de$oe" = 00 ] || target 0 "$name: errors dkimgate $de opendkim $oe"
			done
		done
	done
done
echo
printf '%-12s %14s %14s %14s\n' "peak RSS" "dkimgate kB" "opendkim kB" "od-ed25519 kB"
for tr in $transports; do
	first=
	for s in "${size_list[@]}"; do
		dh=${HWM[$tr|$s|dkimgate]} oh=${HWM[$tr|$s|opendkim]} eh=${HWM[$tr|$s|opendkim-ed]}
		printf '%-12s %14s %14s %14s\n' "$tr $s" "$dh" "$oh" "$eh"
		emit "bench rss transport=$tr size=$s dg_vmhwm_kb=$dh od_vmhwm_kb=$oh od_ed_vmhwm_kb=$eh"
		# One dkimgate does every case; opendkim needs two processes for rsa
		# and ed25519: compare with the larger of them.
		[ "$eh" = - ] || [ "$eh" -le "$oh" ] || oh=$eh
		target "$([ "$dh" -le "$oh" ] && echo 1 || echo 0)" \
			"$tr $s: VmHWM $dh kB vs opendkim $oh kB (target <=)"
		if [ -z "$first" ]; then
			first=$dh first_s=$s
		else
			# Flat: no more than 25% above the smallest size's figure.
			target "$(awk -v a="$dh" -v b="$first" 'BEGIN { print (a <= b * 1.25) }')" \
				"$tr $s: VmHWM $dh kB vs $first kB at $first_s (target flat, <= +25%)"
		fi
	done
done
echo
echo "targets: ${#passes[@]} met, ${#misses[@]} missed"
for t in "${misses[@]}"; do echo "  MISS $t"; emit "bench target=miss $t"; done
for t in "${passes[@]}"; do echo "  PASS $t"; emit "bench target=pass $t"; done
exit 0
