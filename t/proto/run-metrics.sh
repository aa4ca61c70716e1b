#!/bin/bash
# run-metrics.sh - the metrics endpoint of a real dkimgate: scraped before
# and after known traffic, every counter must move by exactly what that
# traffic makes it move, parsed with prometheus_client's text parser.
#
# Starts the test DNS server (keys a1 (RSA) and ed (Ed25519) of
# example.com; "wrong" published with another key; "gone" not published;
# the zone slow.example.net never answers) and one dkimgate -f with
# `metrics` on a free loopback port and dns.timeout = 1.  Checks:
#  1. Configuration: a non-loopback metrics address is refused by
#     dkimgate -n unless metrics_allow_remote = true; a malformed one is
#     refused with the reason; dkimctl status says metrics are off (exit
#     1), or that nothing listens (exit 2).
#  2. The endpoint: GET /metrics is 200 with the text format 0.0.4 and
#     parses whole; another path is 404, POST is 405; build_info carries
#     the version; start time and configuration generation are set.
#  3. Key checks at start: 2 ok, 1 missing, 1 mismatch, and with
#     metrics_keys = 2 the two keys with a problem are the ones listed;
#     a1's successor a2 is not published: one rotation waiting.
#  4. Traffic (alignment = "rfc7489", whose DMARC lookups are fixed by the
#     From: domain), then exact deltas of every counter and histogram count:
#     one message signed with two keys (rsa-sha256, ed25519-sha256); that
#     message verified (2 pass, aligned-pass) with two forged
#     Authentication-Results fields of our authserv-id (removed: 2); a
#     message signed by slow.example.net verified while its key and DMARC
#     lookups time out (temperror, tempfail); a From: in no signing_table
#     entry (pass-unsigned); a message aborted after its headers.  DNS:
#     6 lookups, 3 ok, 1 NXDOMAIN, 2 timeouts, 4 insecure; 2 key cache
#     misses.  Afterwards no message and no DNS lookup is in flight, and
#     dkimctl status shows the same numbers.
#  5. Reload: applied, the generation goes up and the success gauge is 1;
#     a broken file is refused, the gauge goes to 0 and the generation
#     stays.
#  5b. Reload to alignment = "rfc9989"; the same message verified twice:
#     the first walk misses the walk cache, the second hits it, and the
#     new snapshot's key cache misses then hits; every counter exact.
#  6. A second daemon on the same metrics port does not start, and says why.
#  7. contrib/prometheus: promtool (Debian package prometheus) lints the
#     scraped text, checks the scrape job and its rules, runs the rules'
#     unit tests and compiles the dashboard's queries; every series they
#     name is one the daemon serves.
#
# Run by "make check" or by hand; DKIMGATE=, DKIMCTL=, MILTERCLIENT=
# override the programs; KEEP=1 keeps the work directory.  Exit status:
# 0 all checks passed, 1 a check failed, 77 skipped (a tool is missing and
# CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
proto_require
"$py" -c 'import prometheus_client' 2>/dev/null ||
	skip_or_fail "missing python3-prometheus-client"
command -v promtool >/dev/null 2>&1 || skip_or_fail "missing promtool (Debian package prometheus)"
mcheck=$here/metrics-check.py
proto_setup metrics

# A free loopback port: bound and released by the kernel's choice.
free_port() {
	"$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

genkey rsa a1
genkey ed ed
genkey ed wrong
genkey ed other
genkey ed gone
genkey ed a2
{
	printf '%s\tTXT\t%s\n' \
		a1._domainkey.example.com "$(rsa_rec "$K/a1.pem")" \
		ed._domainkey.example.com "$(ed_rec "$K/ed.pem")" \
		wrong._domainkey.example.com "$(ed_rec "$K/other.pem")" \
		_dmarc.example.com "v=DMARC1; p=none; psd=n; adkim=r"
} >"$work/records.tsv"
port=$("$testdns" start "$work/dns" --blackhole slow.example.net "$work/records.tsv") ||
	die "test DNS server did not start"
resolver=127.0.0.1@$port

# write_conf FILE METRICS [EXTRA] [SOCKET SUFFIX] [ALIGNMENT]: the
# configuration, metrics = METRICS.
write_conf() {
	cat >"$1.new" <<CONF
socket = "unix:${sock%.sock}${4:-}.sock";
log = "stderr";
authserv_id = "$AUTHSERV";
metrics = "$2";
metrics_keys = 2;
${3:-}
keys = (
  { id = "a1"; domain = "example.com"; selector = "a1"; file = "$K/a1.pem";
    successor = { selector = "a2"; file = "$K/a2.pem"; }; },
  { id = "ed"; domain = "example.com"; selector = "ed"; file = "$K/ed.pem"; },
  { id = "wrong"; domain = "example.com"; selector = "wrong"; file = "$K/wrong.pem"; },
  { id = "gone"; domain = "example.com"; selector = "gone"; file = "$K/gone.pem"; }
);
signing_table = ( { from = "example.com"; keys = [ "a1", "ed" ]; } );
sign = { internal_networks = [ "10.0.0.0/8" ]; };
# The DNS arithmetic of check 4 is that of the public suffix list method
# (the From: domain's _dmarc name, then its organizational domain's); the
# tree walk's own query pattern is run-alignment.sh's business.
verify = { on_temperror = "tempfail"; alignment = "${5:-rfc7489}"; };
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = 1; };
CONF
	mv "$1.new" "$1"
}

# ================================================================================
echo "# 1. configuration"
write_conf "$work/remote.conf" "0.0.0.0:9591"
out=$("$DKIMGATE" -n -c "$work/remote.conf" 2>&1)
check "a non-loopback metrics address is refused" \
	grep -q "metrics: 0.0.0.0 is not a loopback address.*metrics_allow_remote = true" <<<"$out"
write_conf "$work/remote.conf" "0.0.0.0:9591" "metrics_allow_remote = true;"
check "... and accepted with metrics_allow_remote = true" \
	"$DKIMGATE" -n -c "$work/remote.conf"
write_conf "$work/bad.conf" "127.0.0.1"
out=$("$DKIMGATE" -n -c "$work/bad.conf" 2>&1)
check "a malformed metrics address is refused with the reason" \
	grep -q "metrics: '127.0.0.1' is not ADDRESS:PORT" <<<"$out"
write_conf "$work/off.conf" ""
out=$("$DKIMCTL" status -c "$work/off.conf" 2>&1)
rc=$?
check "dkimctl status with metrics off: exit 1, says so (rc $rc)" \
	eval '[ "$rc" = 1 ] && grep -q "^metrics are off in $work/off.conf" <<<"$out"'
out=$("$DKIMCTL" status -a "127.0.0.1:$(free_port)" 2>&1)
rc=$?
check "dkimctl status with nothing listening: exit 2, says so (rc $rc)" \
	eval '[ "$rc" = 2 ] && grep -q "cannot read metrics at 127.0.0.1:.*Connection refused" <<<"$out"'

# ================================================================================
echo "# 2. the endpoint"
mport=$(free_port)
url=http://127.0.0.1:$mport/metrics
write_conf "$conf" "127.0.0.1:$mport"
start_dkimgate
for _ in $(seq 100); do
	"$py" "$mcheck" scrape "$url" "$work/s0" 2>/dev/null && break
	sleep 0.1
done
check "GET /metrics: 200, text format 0.0.4, parses whole" "$py" "$mcheck" scrape "$url" "$work/s0"
expect_eq "another path is 404" "$("$py" "$mcheck" status "http://127.0.0.1:$mport/" GET)" 404
expect_eq "POST is 405" "$("$py" "$mcheck" status "$url" POST)" 405
version=$("$DKIMGATE" -V | awk '{ print $2 }')
expect_eq "build_info carries the version" \
	"$("$py" "$mcheck" get "$work/s0" dkimgate_build_info "version=$version")" 1
st=$("$py" "$mcheck" get "$work/s0" dkimgate_process_start_time_seconds)
now=$(date +%s)
check "process start time is within the last minute ($st, now $now)" \
	[ "${st%.*}" -le "$now" -a "${st%.*}" -gt $((now - 60)) ]
expect_eq "configuration generation 1, last reload successful" \
	"$("$py" "$mcheck" get "$work/s0" dkimgate_config_generation) $("$py" "$mcheck" get "$work/s0" dkimgate_config_last_reload_successful)" "1 1"

# ================================================================================
echo "# 3. key checks at start"
# key_check = "warn" checks once serving: wait for its result.
for _ in $(seq 100); do
	"$py" "$mcheck" scrape "$url" "$work/s0"
	[ "$("$py" "$mcheck" get "$work/s0" dkimgate_keys state=unchecked)" = 0 ] &&
		[ "$("$py" "$mcheck" get "$work/s0" dkimgate_keys state=ok)" != 0 ] &&
		[ "$(grep -c 'state=waiting' "$log")" -ge 1 ] && break
	sleep 0.1
done
g() { "$py" "$mcheck" get "$work/$1" "${@:2}"; }
expect_eq "keys by state: ok missing mismatch unknown" \
	"$(g s0 dkimgate_keys state=ok) $(g s0 dkimgate_keys state=missing) $(g s0 dkimgate_keys state=mismatch) $(g s0 dkimgate_keys state=unknown)" \
	"2 1 1 0"
expect_eq "per-key gauges: the two keys with a problem" \
	"$(g s0 dkimgate_key_state key=gone state=missing) $(g s0 dkimgate_key_state key=wrong state=mismatch) $(g s0 dkimgate_key_state key=wrong state=ok)" \
	"1 1 0"
expect_eq "rotation: a1's successor a2 is not published, a1 waits" \
	"$(g s0 dkimgate_key_rotations state=waiting) $(g s0 dkimgate_key_rotations state=switched)" "1 0"
check "... and no fine key listed (metrics_keys = 2)" \
	eval '! grep -q "key=\"a1\"" "$work/s0"'
expect_eq "nothing in flight at rest" \
	"$(g s0 dkimgate_messages_in_flight) $(g s0 dkimgate_dns_in_flight)" "0 0"

# ================================================================================
echo "# 4. traffic and exact deltas"
msg() {
	{
		printf 'From: %s\r\nTo: Bob <bob@example.net>\r\nSubject: metrics\r\n' "$2"
		printf 'Date: Mon, 2 Feb 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n\r\n' \
			"$(basename "$1")"
		printf 'Hello,\r\n\r\nbye\r\n'
	} >"$1"
}
msg "$M/alice.eml" "Alice <alice@example.com>"
msg "$M/slow.eml" "Bob <bob@slow.example.net>"
msg "$M/carol.eml" "Carol <carol@unlisted.example>"
"$DKIMCTL" sign -d slow.example.net -s s1 -k "$K/ed.pem" "$M/slow.eml" >"$M/slow-signed.eml" ||
	die "dkimctl sign"

mc sign -c 10.1.2.3 -o "$O/alice-signed.eml" "$M/alice.eml"
expect_eq "signed: 2 signatures, accept" "$(nsigs sign) $(verdict sign)" "2 accept"
{
	for _ in 1 2; do
		printf 'Authentication-Results: %s; dkim=pass header.d=example.com\r\n' "$AUTHSERV"
	done
	cat "$O/alice-signed.eml"
} >"$M/forged.eml"
mc verify -c 192.0.2.1 "$M/forged.eml"
expect_eq "verified: pass, 2 forged results deleted" \
	"$(verdict verify) $(count verify 'chgheader idx=[0-9]+ name=Authentication-Results value=$')" "accept 2"
mc slow -c 192.0.2.1 "$M/slow-signed.eml"
expect_eq "DNS timeout: tempfail" "$(verdict slow | cut -c1-20)" 'replycode code="451 '
mc unsigned -c 10.1.2.3 "$M/carol.eml"
expect_eq "no signing_table entry: accept unsigned" "$(verdict unsigned) $(nsigs unsigned)" \
	"accept stage=eoh 0"
mc abort -c 192.0.2.1 --abort-after header "$M/carol.eml"
check "aborted message: the conversation completes" [ "$mc_rc" = 0 ]

"$py" "$mcheck" scrape "$url" "$work/s1" || die "scrape after traffic"
if "$py" "$mcheck" delta "$work/s0" "$work/s1" \
	'dkimgate_messages_total{decision=sign}=1' \
	'dkimgate_messages_total{decision=verify}=2' \
	'dkimgate_messages_total{decision=pass-unsigned}=1' \
	'dkimgate_message_actions_total{action=accept}=3' \
	'dkimgate_message_actions_total{action=tempfail}=1' \
	'dkimgate_messages_aborted_total=1' \
	'dkimgate_signatures_total{algorithm=rsa-sha256}=1' \
	'dkimgate_signatures_total{algorithm=ed25519-sha256}=1' \
	'dkimgate_verify_results_total{result=pass}=2' \
	'dkimgate_verify_results_total{result=temperror}=1' \
	'dkimgate_alignment_total{verdict=aligned-pass}=1' \
	'dkimgate_alignment_total{verdict=fail}=1' \
	'dkimgate_authres_removed_total=2' \
	'dkimgate_dns_queries_total=6' \
	'dkimgate_dns_answers_total{status=ok}=3' \
	'dkimgate_dns_answers_total{status=nxdomain}=1' \
	'dkimgate_dns_answers_total{status=timeout}=2' \
	'dkimgate_dns_dnssec_total{status=insecure}=4' \
	'dkimgate_key_cache_total{result=miss}=2' \
	'dkimgate_eom_duration_seconds_count{mode=sign}=1' \
	'dkimgate_eom_duration_seconds_count{mode=verify}=2' \
	'dkimgate_dns_lookup_duration_seconds_count=6' \
	>"$work/delta.out" 2>&1; then
	ok "every counter moved by exactly the expected amount"
else
	not_ok "counters moved otherwise than expected:"
	sed 's/^/#   /' "$work/delta.out"
fi
check "the timed-out lookups are counted at 1 s or more" \
	[ "$(g s1 dkimgate_dns_lookup_duration_seconds_bucket 'le=0.5')" -le \
	  $(( $(g s1 dkimgate_dns_lookup_duration_seconds_count) - 2 )) ]
expect_eq "no message in flight afterwards" "$(g s1 dkimgate_messages_in_flight)" "0"
# The lookups the timed-out message gave up stay with libunbound until it
# gives up on the dead zone too (its retries outlast dns.timeout on
# purpose), then the gauge must come back to zero.
for _ in $(seq 1 50); do
	"$py" "$mcheck" scrape "$url" "$work/s1b" || die "scrape after traffic"
	[ "$(g s1b dkimgate_dns_in_flight)" = 0 ] && break
	sleep 0.2
done
expect_eq "no DNS lookup in flight once libunbound gave up" \
	"$(g s1b dkimgate_dns_in_flight)" "0"
still_alive "traffic"

# dkimctl status reads the same endpoint (through the configuration).
"$DKIMCTL" status -c "$conf" >"$work/status.out" 2>&1
rc=$?
sed 's/^/#   /' "$work/status.out"
expect_eq "dkimctl status: exit 0" "$rc" 0
st_has() { grep -Eq -- "$1" "$work/status.out"; }
check "status: version and address" st_has "^dkimgate $version, metrics at 127.0.0.1:$mport\$"
check "status: messages done, in flight, aborted" st_has '^messages +4 done, 0 in flight, 1 aborted$'
check "status: decisions" st_has '^  decision +sign 1, verify 2, pass-unsigned 1$'
check "status: replies" st_has '^  reply +accept 3, reject 0, tempfail 1$'
check "status: signatures" st_has '^signatures +rsa-sha256 1, ed25519-sha256 1$'
check "status: verification results" \
	st_has '^verified +none 0, pass 2, fail 0, neutral 0, policy 0, temperror 1, permerror 0$'
check "status: alignment" st_has '^alignment +aligned-pass 1, unaligned-pass 0, fail 1, none 0'
check "status: forged A-R removed" st_has '^forged A-R +2 removed$'
check "status: DNS timeouts" st_has '^  answers +.*timeout 2, '
check "status: latency with a 90% bound" st_has '^latency +sign: mean [0-9.]+ ms, 90% <= [0-9.]+ ms$'
check "status: keys by state, the bad ones named" \
	eval 'st_has "^keys +4: ok 2, missing 1, mismatch 1, unknown 0, unchecked 0" &&
		st_has "^  key gone +missing$" && st_has "^  key wrong +mismatch$"'

# ================================================================================
echo "# 5. reload"
kill -HUP "$dg_pid"
for _ in $(seq 100); do
	"$py" "$mcheck" scrape "$url" "$work/s2"
	[ "$(g s2 dkimgate_config_generation)" = 2 ] && break
	sleep 0.1
done
expect_eq "reload applied: generation 2, success 1, reloads{success} 1" \
	"$(g s2 dkimgate_config_generation) $(g s2 dkimgate_config_last_reload_successful) $(g s2 dkimgate_config_reloads_total result=success)" \
	"2 1 1"
t_ok=$(g s2 dkimgate_config_last_reload_success_timestamp_seconds)
echo 'this is not = a configuration' >>"$conf"
kill -HUP "$dg_pid"
for _ in $(seq 100); do
	"$py" "$mcheck" scrape "$url" "$work/s3"
	[ "$(g s3 dkimgate_config_reloads_total result=failure)" = 1 ] && break
	sleep 0.1
done
expect_eq "broken file refused: generation 2, success 0, reloads{failure} 1, time kept" \
	"$(g s3 dkimgate_config_generation) $(g s3 dkimgate_config_last_reload_successful) $(g s3 dkimgate_config_reloads_total result=failure) $(g s3 dkimgate_config_last_reload_success_timestamp_seconds)" \
	"2 0 1 $t_ok"

echo "# 5b. the RFC 9989 walk cache"
write_conf "$conf" "127.0.0.1:$mport" "" "" rfc9989
kill -HUP "$dg_pid"
for _ in $(seq 100); do
	"$py" "$mcheck" scrape "$url" "$work/s4"
	[ "$(g s4 dkimgate_config_generation)" = 3 ] && break
	sleep 0.1
done
expect_eq "reload to alignment = rfc9989 applied: generation 3, success 1" \
	"$(g s4 dkimgate_config_generation) $(g s4 dkimgate_config_last_reload_successful)" "3 1"
# The key checks of the new configuration run in the background and look
# keys up in DNS too: let them finish before the baseline.
for _ in $(seq 100); do
	[ "$(grep -c 'keycheck summary' "$log")" -ge 3 ] && break
	sleep 0.1
done
"$py" "$mcheck" scrape "$url" "$work/s4"
mc walk1 -c 192.0.2.1 "$M/forged.eml"
mc walk2 -c 192.0.2.1 "$M/forged.eml"
expect_eq "the same message verified twice: pass, aligned" \
	"$(verdict walk1) $(verdict walk2)" "accept accept"
"$py" "$mcheck" scrape "$url" "$work/s5" || die "scrape after the walks"
# The first walk asks _dmarc.example.com, whose psd=n ends it (TTL 60 s):
# cached, the second message's walk sends no query.
# The new snapshot has a new key cache: the first message parses both
# keys, the second finds them parsed.
# The walk sends _dmarc.example.com and _dmarc.com at once and stops at the
# first one's psd=n; the NXDOMAIN for _dmarc.com is counted only if it came
# before the walk let go of it, which depends on scheduling. Six queries
# are asked either way; the answers counted are five plus that one.
nx=$(( $(g s5 dkimgate_dns_answers_total status=nxdomain) - $(g s4 dkimgate_dns_answers_total status=nxdomain) ))
case $nx in 0|1) ;; *) nx=1 ;; esac  # anything else: report against 1
if "$py" "$mcheck" delta "$work/s4" "$work/s5" \
	'dkimgate_messages_total{decision=verify}=2' \
	'dkimgate_message_actions_total{action=accept}=2' \
	'dkimgate_verify_results_total{result=pass}=4' \
	'dkimgate_alignment_total{verdict=aligned-pass}=2' \
	'dkimgate_authres_removed_total=4' \
	'dkimgate_dmarc_cache_total{result=miss}=1' \
	'dkimgate_dmarc_cache_total{result=hit}=1' \
	'dkimgate_key_cache_total{result=miss}=2' \
	'dkimgate_key_cache_total{result=hit}=2' \
	'dkimgate_dns_queries_total=6' \
	'dkimgate_dns_answers_total{status=ok}=5' \
	"dkimgate_dns_answers_total{status=nxdomain}=$nx" \
	"dkimgate_dns_dnssec_total{status=insecure}=$((5 + nx))" \
	'dkimgate_eom_duration_seconds_count{mode=verify}=2' \
	"dkimgate_dns_lookup_duration_seconds_count=$((5 + nx))" \
	>"$work/delta2.out" 2>&1; then
	ok "walk cache: 1 miss then 1 hit, every other counter exact"
else
	not_ok "counters moved otherwise than expected:"
	sed 's/^/#   /' "$work/delta2.out"
fi

# ================================================================================
echo "# 6. the port taken"
write_conf "$work/second.conf" "127.0.0.1:$mport" "" 2
"$DKIMGATE" -f -c "$work/second.conf" >"$work/second.log" 2>&1 &
p2=$!
for _ in $(seq 100); do alive "$p2" || break; sleep 0.1; done
if alive "$p2"; then
	not_ok "a second daemon on the same metrics port keeps running"
	stop_pid "$p2"
else
	wait "$p2"
	rc=$?
	check "a second daemon on the same port exits 1 and says why (rc $rc)" \
		eval '[ "$rc" = 1 ] && grep -q "error event=start reason=\"metrics 127.0.0.1:$mport: Address already in use\"" "$work/second.log"'
fi
still_alive "second daemon"

# ================================================================================
echo "# 7. contrib/prometheus against the real output"
cdir=$top_srcdir/contrib/prometheus
out=$(promtool check metrics <"$work/s1" 2>&1)
check "promtool check metrics: the exposition passes Prometheus' lint" \
	eval '[ -z "$out" ] || { echo "$out" | sed "s/^/#   /"; false; }'
check "promtool check config: the scrape job and its rule file" \
	eval 'promtool check config "$cdir/prometheus.yml" >"$work/promtool.out" 2>&1'
check "promtool test rules: the alerts fire as their tests say" \
	eval '(cd "$cdir" && promtool test rules dkimgate.rules.test.yml) >>"$work/promtool.out" 2>&1'
check "the dashboard's queries are valid PromQL" \
	eval '"$py" "$mcheck" dashboard-rules "$cdir/dkimgate-dashboard.json" "$work/dash.yml" >/dev/null &&
		promtool check rules "$work/dash.yml" >>"$work/promtool.out" 2>&1'
check "every series the rules and the dashboard name is served" \
	eval '"$py" "$mcheck" names "$work/s1" "$cdir/dkimgate.rules.yml" \
		"$cdir/dkimgate-dashboard.json" >"$work/names.out" 2>&1'
grep -q 'not serve\|FAILED' "$work/promtool.out" "$work/names.out" &&
	sed 's/^/#   /' "$work/promtool.out" "$work/names.out"

stop_pid "$dg_pid"
dg_pid=''
sanitizer_report
proto_finish
