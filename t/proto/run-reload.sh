#!/bin/bash
# run-reload.sh - reload under load, and shutdown with a message in flight.
#
# One dkimgate -f (unix socket, configuration written here) and the test
# DNS server, which publishes the old and the new key of example.com from
# the start.  Checks, one "ok - ..." or "not ok - ..." line each:
#  1. Reload under load: t/milterclient --bench -C 4 -T 8 signs messages
#     of an internal client the whole time.  After about 2 s the
#     configuration is replaced by one whose key table uses a new key and
#     selector, SIGHUP: the log says "reloaded", and a single message sent
#     then is signed with the new selector and verifies (dkimctl).  After
#     about 4 s a syntactically broken configuration, SIGHUP: the log says
#     "error event=reload ... configuration refused, keeping the running
#     one", and single messages are still signed with the new selector and
#     verify.  The benchmark ends with errors=0 tempfail=0, every message
#     logged after the refused reload used the new key, and the log has no
#     signing error.
#  2. Shutdown: SIGTERM while a client is in the middle of a message body
#     (one-byte chunks; the client is frozen with SIGSTOP there so that
#     machine load cannot decide the timing): the log says "stopping
#     inflight=1", dkimgate waits, a new message meanwhile gets 451 4.3.2
#     at MAIL FROM; after SIGCONT the message in flight still gets its
#     signature (it verifies) and dkimgate exits 0 after "stopped
#     inflight=0".  (libmilter's smfi_stop() used to be called at once,
#     which with Debian's worker-pool libmilter ends every session waiting
#     for the MTA: the message was cut off after the 30 s drain.)
#
# Run by "make check" or by hand; DKIMGATE=, DKIMCTL=, MILTERCLIENT=
# override the programs (e.g. a sanitizer build); KEEP=1 keeps the work
# directory.  Exit status: 0 all checks passed, 1 a check failed, 77
# skipped (a tool is missing and CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
BENCH_SECONDS=${BENCH_SECONDS:-8}
proto_require
proto_setup reload

genkey rsa old
genkey ed new
printf '%s\tTXT\t%s\n' \
	old._domainkey.example.com "$(rsa_rec "$K/old.pem")" \
	new._domainkey.example.com "$(ed_rec "$K/new.pem")" >"$work/records.tsv"
port=$("$testdns" start "$work/dns" "$work/records.tsv") || die "test DNS server did not start"
resolver=127.0.0.1@$port

# write_conf SELECTOR: the whole configuration, with example.com signed by
# the key of that selector; written aside and renamed, as an admin's tool
# would, so the daemon never reads half a file.
write_conf() {
	cat >"$conf.new" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
keys = ( { id = "k"; domain = "example.com"; selector = "$1"; file = "$K/$1.pem"; } );
signing_table = ( { from = "example.com"; keys = [ "k" ]; } );
sign = { internal_networks = [ "10.0.0.0/8" ]; };
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = 5; };
CONF
	mv "$conf.new" "$conf"
}
write_conf old
start_dkimgate
ok "dkimgate started (pid $dg_pid), DNS on port $port"

printf '%s\r\n' 'From: Alice <alice@example.com>' 'To: bob@example.net' 'Subject: reload' \
	'Message-ID: <reload@example.com>' '' 'Hello,' '' 'signed under load.' >"$M/m.eml"

# single NAME: one message from an internal client; prints its selectors.
single() {
	mc "$1" -c 10.1.2.3 -o "$O/$1.eml" "$M/m.eml"
	selectors "$1"
}
# wait_log REGEX N: until the log has N lines matching REGEX (10 s at most).
wait_log() {
	local i
	for i in $(seq 200); do
		[ "$(grep -Ec -- "$1" "$log")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

expect_eq "before any reload: signed with s=old" "$(single before)" "example.com/old"
check "  it verifies" dkverify "$O/before.eml" 1

# ================================================================================
echo "# 1. reload under load (bench -C 4 -T $BENCH_SECONDS)"
t0=$(date +%s.%N)
"$MILTERCLIENT" --bench -C 4 -T "$BENCH_SECONDS" -c 10.1.2.3 -s "unix:$sock" -t 60 "$M/m.eml" \
	>"$O/bench.out" 2>"$O/bench.err" &
bench_pid=$!
bg_pids+=("$bench_pid")

sleep 2
write_conf new
kill -HUP "$dg_pid"
check "SIGHUP with a new key table at $(secs "$t0" "$(date +%s.%N)") s: log says reloaded" \
	wait_log 'reloaded config=' 1
alive "$bench_pid" || not_ok "the benchmark had already ended at the first reload"
got=$(single after-new)
expect_eq "  a message sent now is signed with s=new" "$got" "example.com/new"
check "  it verifies against the DNS" dkverify "$O/after-new.eml" 1

sleep 2
printf 'socket = "unix:%s";\nkeys = ( { id = "k"; domain = \n' "$sock" >"$conf.new"
mv "$conf.new" "$conf"
kill -HUP "$dg_pid"
check "SIGHUP with a broken configuration at $(secs "$t0" "$(date +%s.%N)") s: refused" \
	wait_log 'error event=reload reason="configuration refused, keeping the running one"' 1
check "  the log names the problem first" \
	grep -q 'error event=reload reason=".*dkimgate.conf' "$log"
check "  and there is still only one reloaded line, before the refusal" \
	eval '[ "$(grep -c "reloaded config=" "$log")" = 1 ] &&
	    [ "$(grep -n "reloaded config=" "$log" | cut -d: -f1)" -lt "$(grep -n "configuration refused" "$log" | cut -d: -f1)" ]'
alive "$bench_pid" || not_ok "the benchmark had already ended at the second reload"
refused_line=$(grep -n 'configuration refused' "$log" | head -n 1 | cut -d: -f1)
for i in 1 2 3; do
	got=$(single "after-broken-$i")
	expect_eq "  message $i after the refused reload: still s=new" "$got" "example.com/new"
	check "  it verifies" dkverify "$O/after-broken-$i.eml" 1
done

wait "$bench_pid"
bench_rc=$?
bg_pids=()
summary=$(grep -E 'messages=' "$O/bench.out" "$O/bench.err" | head -n 1 | sed 's/^[^:]*://')
echo "# bench: $summary"
msgs=$(sed -n 's/.*messages=\([0-9]*\).*/\1/p' <<<"$summary")
expect_eq "bench: exit 0, errors=0 tempfail=0" \
	"$bench_rc $(grep -o 'errors=[0-9]*' <<<"$summary") $(grep -o 'tempfail=[0-9]*' <<<"$summary")" \
	"0 errors=0 tempfail=0"
check "bench: messages were sent (${msgs:-none})" [ "${msgs:-0}" -gt 0 ]
nold=$(grep -c 'signed rule=.*signatures=example.com/old$' "$log")
nnew=$(grep -c 'signed rule=.*signatures=example.com/new$' "$log")
echo "# signed with s=old: $nold, with s=new: $nnew"
check "both keys were used during the run" eval '[ "$nold" -gt 1 ] && [ "$nnew" -gt 1 ]'
late_old=$(tail -n "+$refused_line" "$log" | grep -c 'signatures=example.com/old$')
expect_eq "no message logged after the refused reload used the old key" "$late_old" 0
check "no signing error or tempfail in the log" \
	eval '! grep -Eq "error event=sign|action=tempfail" "$log"'
nlog=$(grep -c 'signed rule=' "$log")
# bench messages + the single ones (1 before, 1 after new, 3 after broken).
expect_eq "every message sent was logged as signed" "$nlog" "$((msgs + 5))"
still_alive "reload under load"

# ================================================================================
echo "# 2. SIGTERM with a message in flight"
{
	printf 'From: Alice <alice@example.com>\r\nTo: bob@example.net\r\nSubject: slow\r\n\r\n'
	for i in $(seq 1 1000); do printf 'slow line %05d: sent one byte per packet.\r\n' "$i"; done
} >"$M/slow.eml"
t1=$(date +%s.%N)
# -v traces each packet on stderr: "> B" is the first body chunk.
"$MILTERCLIENT" -v -s "unix:$sock" -t 120 -c 10.1.2.3 -b 1 -o "$O/slow.eml" "$M/slow.eml" \
	>"$O/slow.out" 2>"$O/slow.err" &
slow_pid=$!
bg_pids+=("$slow_pid")
for _ in $(seq 500); do grep -q '> B len=' "$O/slow.err" && break; sleep 0.01; done
# The client is frozen mid-body, so however loaded the machine is, the
# message is in flight when SIGTERM comes, and stays so while we look.
kill -STOP "$slow_pid"
grep -q '> B len=' "$O/slow.err" || not_ok "the slow client had not reached the body"
grep -q 'verdict=' "$O/slow.out" && not_ok "the slow client had already finished"
kill -TERM "$dg_pid"
check "SIGTERM with the client frozen mid-body: log says stopping inflight=1" \
	wait_log 'stopping inflight=1' 1
sleep 1
check "  a second later dkimgate is still running (waiting for the message)" alive "$dg_pid"
mc deferred -c 10.1.2.3 "$M/m.eml"
expect_eq "  a new message meanwhile is deferred at MAIL FROM (the MTA keeps it)" \
	"$(verdict deferred)" 'replycode code="451 4.3.2 dkimgate is restarting, try again later" stage=envfrom'
kill -CONT "$slow_pid"
wait "$slow_pid"
slow_rc=$?
bg_pids=()
expect_eq "  the message in flight completes ($(secs "$t1" "$(date +%s.%N)") s): exit 0, accept, s=new" \
	"$slow_rc $(verdict slow) $(selectors slow)" "0 accept example.com/new"
check "  its signature verifies" dkverify "$O/slow.eml" 1
for _ in $(seq 100); do alive "$dg_pid" || break; sleep 0.1; done
wait "$dg_pid"
rc=$?
dg_pid=''
expect_eq "dkimgate exits 0 after stopped inflight=0" \
	"$rc $(grep -c 'stopped inflight=0' "$log")" "0 1"
check "  the in-flight message was logged as signed before stopped" \
	eval 'grep -A1000 "stopping inflight=1" "$log" | grep -B1000 "stopped inflight" | grep -q "signed rule="'
sanitizer_report
proto_finish
