#!/usr/bin/env bash
# run-keytable-bench.sh - the key table benchmark: many signing domains.
#
# usage: t/bench/run-keytable-bench.sh [-n 1000,10000,30000,100000]
#            [--source inline|dir|opendkim|lmdb] [-T SECS] [-r REPS] [--keep]
#
# For each table size N it generates a configuration with N signing
# domains (one 2048-bit RSA key per domain: hard links to four key files,
# so every domain has its own key file path and its own decoded key, with
# the disk holding four), key_check = "off", and measures with the daemon
# of this build:
#   start    seconds from exec to the first message signed through the
#            socket (polled every 20 ms)
#   rss      peak RSS (VmHWM) once serving, before any message
#   reload   seconds from SIGHUP, with one domain added, to the
#            "reloaded" log line; the new domain is then checked to sign
#   one/rand signing throughput (2 KB messages, 2 connections, 10 per
#            connection) with every message From: one domain, and From:
#            one of 1,000 domains drawn at random out of N (after one pass
#            over them, which decodes their keys); runs interleaved, the
#            median of REPS kept, and their ratio rand/one; then the same
#            for the daemon's CPU milliseconds per message (utime+stime,
#            steadier than throughput when the machine is shared)
#   growth   RSS growth per signing domain in use: VmRSS after the random
#            runs minus VmRSS before them (after the reload), divided by 1,000
# --source chooses where the N keys live: inline in dkimgate.conf (keys and
# signing_table lists; the only form older builds read), a key directory,
# OpenDKIM KeyTable/SigningTable files, or an LMDB map.
#
# It builds nothing: run `make && make t/milterclient` first (DKIMGATE=PATH
# benchmarks another build's daemon). A benchmark, not a test: its figures
# depend on the machine. Exit 0 when everything ran, 1 when something could
# not run, 2 on a usage error. Progress on stderr, the table on stdout.
set -euo pipefail

usage() {
	sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/../.." && pwd)}
. "$here/../lib/proc.sh"

sizes=1000,10000,30000,100000 source=inline secs=2 reps=3 keep=''
while [ $# -gt 0 ]; do
	case $1 in
	-n) [ $# -ge 2 ] || usage; sizes=$2; shift 2 ;;
	--source) [ $# -ge 2 ] || usage; source=$2; shift 2 ;;
	-T) [ $# -ge 2 ] || usage; secs=$2; shift 2 ;;
	-r) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) usage ;;
	esac
done
[[ $sizes =~ ^[0-9]+(,[0-9]+)*$ && $secs =~ ^[1-9][0-9]*$ && $reps =~ ^[1-9][0-9]*$ ]] ||
	usage
case $source in inline|dir|opendkim|lmdb) ;; *) usage ;; esac

say() { echo "run-keytable-bench: $*" >&2; }
die() { say "$*"; exit 1; }

DG=${DKIMGATE:-$top/dkimgate}
for f in "$DG" "$top/t/milterclient"; do
	[ -x "$f" ] || die "$f is not built; run make && make t/milterclient"
done
command -v python3 >/dev/null || die "python3 is needed to generate the tables"
[ "$source" != lmdb ] || command -v mdb_load >/dev/null ||
	die "mdb_load (Debian package lmdb-utils) is needed for --source lmdb"

work=$(mktemp -d /tmp/dkimgate-keytable-bench.XXXXXX)
dg_pid=''
cleanup() {
	[ -z "$dg_pid" ] || stop_pid "$dg_pid"
	if [ -n "$keep" ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
mkdir -p "$work/bin"
# Copies, so that a rebuild during the run does not disturb it.
cp "$DG" "$work/bin/dkimgate"
cp "$top/t/milterclient" "$work/bin/milterclient"
DG=$work/bin/dkimgate MC=$work/bin/milterclient

for i in 0 1 2 3; do
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$work/base$i.pem" 2>/dev/null || die "openssl genpkey failed"
	chmod 600 "$work/base$i.pem"
done

# gen.py N SOCKET: the keys, the configuration for N domains, and one for
# N+1 domains (the reload case), in the layout --source asks for.
cat >"$work/gen.py" <<'EOF'
import os, sys
work, source, n, sock = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
keys = os.path.join(work, "keys")
os.makedirs(keys, exist_ok=True)
def dom(i): return "d%d.example" % i
def kpath(i): return os.path.join(keys, "%s.s1.pem" % dom(i))
for i in range(n + 1):
    p = kpath(i)
    if not os.path.exists(p):
        os.link(os.path.join(work, "base%d.pem" % (i % 4)), p)
head = ('socket = "%s";\nlog = "stderr";\nauthserv_id = "mx.example.test";\n'
        'key_check = "off";\nstate_dir = "";\n'
        'sign = { internal_networks = [ "127.0.0.0/8" ]; };\n' % sock)
def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)
def inline(m):
    k = ",\n".join('{ id = "k%d"; domain = "%s"; selector = "s1"; file = "%s"; }'
                   % (i, dom(i), kpath(i)) for i in range(m))
    t = ",\n".join('{ from = "%s"; keys = [ "k%d" ]; }' % (dom(i), i) for i in range(m))
    return head + "keys = (\n" + k + "\n);\nsigning_table = (\n" + t + "\n);\n"
if source == "inline":
    write(os.path.join(work, "dkimgate.conf"), inline(n))
    write(os.path.join(work, "dkimgate-plus1.conf"), inline(n + 1))
elif source == "dir":
    d = os.path.join(work, "keydir")
    os.makedirs(d, exist_ok=True)
    for i in range(n):
        q = os.path.join(d, os.path.basename(kpath(i)))
        if not os.path.exists(q):
            os.link(kpath(i), q)
    conf = head + 'sources = ( { type = "directory"; path = "%s"; watch = "off"; } );\n' % d
    write(os.path.join(work, "dkimgate.conf"), conf)
    write(os.path.join(work, "plus1.sh"), "ln %s %s\n" % (
        kpath(n), os.path.join(d, os.path.basename(kpath(n)))))
elif source == "opendkim":
    def tables(m, sfx):
        write(os.path.join(work, "KeyTable" + sfx), "".join(
            "k%d %s:s1:%s\n" % (i, dom(i), kpath(i)) for i in range(m)))
        write(os.path.join(work, "SigningTable" + sfx), "".join(
            "*@%s k%d\n" % (dom(i), i) for i in range(m)))
    tables(n, "")
    tables(n + 1, ".plus1")
    conf = head + ('sources = ( { type = "opendkim"; key_table = "%s/KeyTable"; '
                   'signing_table = "refile:%s/SigningTable"; } );\n' % (work, work))
    write(os.path.join(work, "dkimgate.conf"), conf)
    write(os.path.join(work, "plus1.sh"),
          "mv %s/KeyTable.plus1 %s/KeyTable && mv %s/SigningTable.plus1 %s/SigningTable\n"
          % (work, work, work, work))
elif source == "lmdb":
    def dump(m):
        out = ["VERSION=3\nformat=print\ntype=btree\nmapsize=1073741824\nHEADER=END\n"]
        for i in range(m):
            out.append(" %s\n %s:s1:%s\n" % (dom(i), dom(i), kpath(i)))
        out.append("DATA=END\n")
        return "".join(out)
    write(os.path.join(work, "map.dump"), dump(n))
    conf = head + 'sources = ( { type = "lmdb"; path = "%s/keys.lmdb"; } );\n' % work
    write(os.path.join(work, "dkimgate.conf"), conf)
    write(os.path.join(work, "plus1.sh"),
          "printf 'VERSION=3\\nformat=print\\ntype=btree\\nHEADER=END\\n %s\\n %s:s1:%s\\nDATA=END\\n'"
          " | mdb_load -n -f /dev/stdin %s/keys.lmdb\n" % (dom(n), dom(n), kpath(n), work))
EOF

# msg FILE DOMAIN: a 2 KB message From: someone at DOMAIN.
msg() {
	{
		printf 'From: Sender <sender@%s>\r\nTo: rcpt@example.net\r\n' "$2"
		printf 'Subject: keytable bench\r\nDate: Thu, 03 Dec 2026 05:00:00 +0000\r\n'
		printf 'Message-ID: <bench@%s>\r\n\r\n' "$2"
		for _ in $(seq 28); do
			printf '%070d\r\n' 0
		done
	} >"$1"
}

# signs SOCKET FILE: the daemon signs FILE.
signs() {
	"$MC" -s "$1" "$2" 2>/dev/null | grep -q 'name=DKIM-Signature'
}

kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
now() { date +%s.%N; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
cputicks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# rate SOCKET SECS FILE...: "MSGS_PER_SEC CPU_MS_PER_MSG" (the daemon's
# utime+stime over the run; steadier than throughput on a loaded machine)
rate() {
	local s=$1 t=$2 c0 c1 out
	shift 2
	c0=$(cputicks "$dg_pid")
	out=$("$MC" --bench -C 2 -n 10 -T "$t" -s "$s" "$@")
	c1=$(cputicks "$dg_pid")
	awk -v o="$out" -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" 'BEGIN {
		n = o; sub(/.*messages=/, "", n); sub(/ .*/, "", n)
		r = o; sub(/.*msgs_per_sec=/, "", r); sub(/ .*/, "", r)
		printf "%s %.4f\n", r, (b - a) * 1000 / hz / (n > 0 ? n : 1) }'
}

rows=()
IFS=, read -r -a nlist <<<"$sizes"
for n in "${nlist[@]}"; do
	rm -rf "$work/keys" "$work/keydir" "$work/keys.lmdb" "$work"/msg-*.eml
	sock=$work/dg.sock
	say "N=$n: generating ($source)"
	python3 "$work/gen.py" "$work" "$source" "$n" "unix:$sock" || die "generator failed"
	if [ "$source" = lmdb ]; then
		mdb_load -n -f "$work/map.dump" "$work/keys.lmdb" || die "mdb_load failed"
	fi
	msg "$work/msg-one.eml" d0.example
	msg "$work/msg-new.eml" "d$n.example"
	rand=()
	for r in $(python3 -c "import random; random.seed($n); print(' '.join(str(random.randrange($n)) for _ in range(1000)))"); do
		msg "$work/msg-r$r.eml" "d$r.example"
		rand+=("$work/msg-r$r.eml")
	done
	sync
	say "N=$n: start"
	t0=$(now)
	"$DG" -f -c "$work/dkimgate.conf" 2>"$work/dg.log" &
	dg_pid=$!
	until signs "unix:$sock" "$work/msg-one.eml"; do
		alive "$dg_pid" || die "dkimgate exited: $(tail -n 5 "$work/dg.log")"
		sleep 0.02
	done
	t1=$(now)
	start=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	hwm=$(kb "$dg_pid" VmHWM)
	say "N=$n: started in $start s, VmHWM $hwm kB"

	say "N=$n: reload with one domain added"
	if [ "$source" = inline ]; then
		mv "$work/dkimgate-plus1.conf" "$work/dkimgate.conf"
	else
		sh "$work/plus1.sh"
	fi
	nrel=$(grep -c 'reloaded' "$work/dg.log" || true)
	t0=$(now)
	kill -HUP "$dg_pid"
	while [ "$(grep -c 'reloaded' "$work/dg.log" || true)" -le "$nrel" ]; do
		alive "$dg_pid" || die "dkimgate exited: $(tail -n 5 "$work/dg.log")"
		grep -q 'error event=reload' "$work/dg.log" && die "reload refused: $(grep 'error event=reload' "$work/dg.log")"
		sleep 0.01
	done
	t1=$(now)
	reload=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	signs "unix:$sock" "$work/msg-new.eml" || die "N=$n: the added domain does not sign"
	rss0=$(kb "$dg_pid" VmRSS)

	say "N=$n: throughput, one domain against random domains"
	"$MC" --bench -C 2 -n 10 -N 1000 -s "unix:$sock" "${rand[@]}" >/dev/null ||
		die "random pass failed"
	one=() rnd=() onec=() rndc=()
	for _ in $(seq "$reps"); do
		read -r a b < <(rate "unix:$sock" "$secs" "$work/msg-one.eml")
		one+=("$a") onec+=("$b")
		read -r a b < <(rate "unix:$sock" "$secs" "${rand[@]}")
		rnd+=("$a") rndc+=("$b")
	done
	o=$(echo "${one[*]}" | median) r=$(echo "${rnd[*]}" | median)
	oc=$(echo "${onec[*]}" | median) rc=$(echo "${rndc[*]}" | median)
	ratio=$(awk -v a="$r" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
	cratio=$(awk -v a="$rc" -v b="$oc" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	rss1=$(kb "$dg_pid" VmRSS)
	growth=$(awk -v a="$rss0" -v b="$rss1" 'BEGIN { printf "%.1f", (b - a) / 1000 }')
	stop_pid "$dg_pid"
	dg_pid=''
	rows+=("$(printf '%-8s %-9s %8s %7s %9s %8s %8s %6s %9s %9s %6s %10s' "$n" "$source" \
		"$start" "$((hwm / 1024))" "$reload" "$o" "$r" "$ratio" "$oc" "$rc" "$cratio" "$growth")")
done

printf '%-8s %-9s %8s %7s %9s %8s %8s %6s %9s %9s %6s %10s\n' N source "start s" "RSS MB" \
	"reload s" "one/s" "rand/s" ratio "one ms" "rand ms" ratio "kB/domain"
for row in "${rows[@]}"; do
	echo "$row"
done
