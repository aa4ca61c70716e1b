#!/bin/bash
# run-sources.sh - key tables outside dkimgate.conf, through the daemon
# socket: a key directory (watched by inotify, then by scanning) and
# OpenDKIM KeyTable/SigningTable files, with domains added and removed
# while the daemon runs, and malformed entries.
#
# Checks, one "ok - ..." or "not ok - ..." line each:
#  1. Directory, watch = "inotify": a.example's key file signs; a key file
#     dropped in for b.example signs without a signal (the log says
#     "reloaded ... trigger=watch"); with subdomains, x.b.example signs
#     with b.example's key; b.example's file taken out, its mail is no
#     longer signed; a file named wrongly and a directory named like a key
#     are reported as "warning event=source" with their path, and the
#     daemon serves on; a dangling symlink DOMAIN.SELECTOR.pem fails that
#     domain's mail only (tempfail, "error event=key" once).
#  2. Directory, watch = "scan" (watch_interval = 1): a key dropped in
#     signs within a few seconds, without a signal.
#  3. OpenDKIM tables (refile:): the entries that carry over sign; each
#     malformed line (no key, a bare "*", a key name not in the KeyTable,
#     a missing key file, a duplicate key name, a wildcard that cannot be
#     indexed) is reported with file:line and the rest serves; dkimgate -n
#     reports the same and fails; a domain added to both tables signs
#     after SIGHUP; removed, it stops; a reload with no table changed
#     reuses them (the tables are not read again: no new warnings).
#  4. LMDB map (mdb_load writes it while the daemon runs): an entry signs;
#     an entry added signs with the next message, no reload; a value
#     changed (new selector) signs with the new key at once; a value that
#     does not parse leaves its domain unsigned, and dkimgate -n names the
#     map and the entry; the map replaced by a new file without a domain
#     (rename) is noticed by the scan (trigger=watch) and the domain stops;
#     dkimctl testkey --all goes through the map's keys.
#
# Run by "make check" or by hand; DKIMGATE=, DKIMCTL=, MILTERCLIENT=
# override the programs; KEEP=1 keeps the work directory.  Exit status: 0
# all checks passed, 1 a check failed, 77 skipped (a tool is missing and CI
# is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
proto_require
proto_setup sources

D=$work/keys.d
mkdir -m 700 "$D"
# newkey PATH: a fresh Ed25519 key, mode 0600.
newkey() {
	openssl genpkey -algorithm ED25519 -out "$1.tmp" 2>/dev/null || die "openssl genpkey"
	chmod 600 "$1.tmp"
	mv "$1.tmp" "$1"
}
msg() {
	printf '%s\r\n' "From: <a@$1>" 'To: b@example.net' "Subject: $1" \
		"Message-ID: <$1@example.net>" '' 'Hello.' >"$M/$1.eml"
}
for d in a.example b.example x.b.example c.example ghost.example od1.example \
	sub.od1.example od2.example od3.example new.example; do
	msg "$d"
done
# signed_as NAME DOMAIN: the selectors of one message From: DOMAIN.
signed_as() {
	mc "$1" "$M/$2.eml"
	[ "$mc_rc" = 0 ] || echo "# milterclient $1: status $mc_rc: $(head -c 300 "$O/$1.err")" >&2
	selectors "$1"
}
# wait_log REGEX N [TENTHS]: until the log has N lines matching REGEX.
wait_log() {
	local i
	for i in $(seq "${3:-100}"); do
		[ "$(grep -Ec -- "$1" "$log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
base_conf() {
	cat <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
key_check = "off";
state_dir = "";
sign = { internal_networks = [ "127.0.0.0/8" ]; };
dns = { resolver = "127.0.0.1@9"; trust_anchor = ""; timeout = 1; };
CONF
}
restart() {
	stop_pid "$dg_pid"
	dg_pid=''
	: >"$log"
	"$DKIMGATE" -f -c "$conf" 2>"$log" &
	dg_pid=$!
	for _ in $(seq 200); do grep -q "started version=" "$log" && break; sleep 0.05; done
	[ -S "$sock" ] || die "dkimgate did not create its socket: $(cat "$log")"
}

# ---- 1. directory, inotify ----
echo "# 1. key directory, watch = inotify"
newkey "$D/a.example.s1.pem"
printf 'not a key name\n' >"$D/bad.pem"
mkdir "$D/dir.example.s1.pem"
{ base_conf; printf 'sources = ( { type = "directory"; path = "%s"; subdomains = true; } );\n' "$D"; } >"$conf"
"$DKIMGATE" -f -c "$conf" 2>"$log" &
dg_pid=$!
for _ in $(seq 200); do grep -q "started version=" "$log" && break; sleep 0.05; done
expect_eq "a.example signs from the directory" "$(signed_as a1 a.example)" "a.example/s1"
check "a wrongly named file is reported with its path" \
	grep -q "warning event=source reason=\"$D/bad.pem: not named DOMAIN.SELECTOR.pem" "$log"
check "a directory named like a key is reported" \
	grep -q "warning event=source reason=\"$D/dir.example.s1.pem: a directory" "$log"
expect_eq "b.example is not signed yet" "$(signed_as b0 b.example) $(nsigs b0)" " 0"
newkey "$D/b.example.s2.pem"
check "a key dropped in reloads the directory (trigger=watch)" \
	wait_log 'reloaded config=.* trigger=watch' 1
expect_eq "b.example signs" "$(signed_as b1 b.example)" "b.example/s2"
expect_eq "x.b.example signs with b.example's key (subdomains)" \
	"$(signed_as xb1 x.b.example)" "b.example/s2"
expect_eq "a.example still signs" "$(signed_as a2 a.example)" "a.example/s1"
rm "$D/b.example.s2.pem"
check "the key taken out reloads the directory" wait_log 'reloaded config=.* trigger=watch' 2
expect_eq "b.example is no longer signed" "$(signed_as b2 b.example) $(nsigs b2) $(verdict b2)" \
	" 0 accept stage=eoh"
check "  and the log says why" grep -q 'not-signed .*from=a@b.example reason="no signing_table entry' "$log"
ln -s "$D/nothing-here.pem" "$D/ghost.example.s1.pem"
wait_log 'reloaded config=.* trigger=watch' 3 || not_ok "no reload after the symlink"
mc ghost1 "$M/ghost.example.eml"
mc ghost2 "$M/ghost.example.eml"
expect_eq "a dangling key file: its domain is tempfailed" \
	"$(verdict ghost1 | cut -d' ' -f1-3) $(verdict ghost2 | cut -d' ' -f1-3)" \
	'replycode code="451 4.3.0 replycode code="451 4.3.0'
expect_eq "  its key error is logged once" \
	"$(grep -c 'error event=key key=ghost.example.s1 domain=ghost.example' "$log")" 1
expect_eq "  other domains still sign" "$(signed_as a3 a.example)" "a.example/s1"
still_alive "after the directory changes"

# ---- 2. directory, scan ----
echo "# 2. key directory, watch = scan"
rm -f "$D/ghost.example.s1.pem"
{ base_conf; echo 'watch_interval = 1;'
  printf 'sources = ( { type = "directory"; path = "%s"; watch = "scan"; } );\n' "$D"; } >"$conf"
restart
newkey "$D/c.example.s3.pem"
check "a key dropped in is found by the scan" wait_log 'reloaded config=.* trigger=watch' 1 60
expect_eq "c.example signs" "$(signed_as c1 c.example)" "c.example/s3"

# ---- 3. OpenDKIM tables ----
echo "# 3. OpenDKIM KeyTable and SigningTable"
O1=$work/od
mkdir -m 700 "$O1"
for k in od1 od2 od3 new; do newkey "$O1/$k.pem"; done
cat >"$O1/KeyTable" <<EOF
# name  domain:selector:keyfile
od1     od1.example:sel1:$O1/od1.pem
od2     od2.example:sel2:$O1/od2.pem
od3     od3.example:sel3:$O1/od3.pem
nokey
gone    gone.example:sel:$O1/gone.pem
od1     other.example:sel:$O1/od2.pem
EOF
cat >"$O1/SigningTable" <<EOF
*@od1.example       od1
*@*.od1.example     od1
*@od2.example       od2
*
*@od3.example       missing
*@od*.example       od3
EOF
write_od_conf() {
	{ base_conf
	  printf 'sources = ( { type = "opendkim"; key_table = "%s"; signing_table = "refile:%s"; } );\n' \
		"$O1/KeyTable" "$O1/SigningTable"; } >"$conf"
}
write_od_conf
if "$DKIMGATE" -n -c "$conf" >"$O/n.out" 2>&1; then
	not_ok "dkimgate -n accepts malformed OpenDKIM tables"
else
	ok "dkimgate -n fails on malformed OpenDKIM tables"
fi
restart
expect_eq "od1.example signs" "$(signed_as od1 od1.example)" "od1.example/sel1"
expect_eq "sub.od1.example signs (*@*.od1.example)" "$(signed_as sod1 sub.od1.example)" \
	"od1.example/sel1"
expect_eq "od2.example signs" "$(signed_as od2 od2.example)" "od2.example/sel2"
for want in \
	"$O1/KeyTable:5: key 'nokey' has no DOMAIN:SELECTOR:KEYFILE" \
	"$O1/KeyTable:6: key 'gone': key file $O1/gone.pem: No such file or directory" \
	"$O1/KeyTable:7: duplicate key id 'od1' (first at line 2)" \
	"$O1/SigningTable:4: '\\*' names no key" \
	"$O1/SigningTable:5: no key 'missing' in the KeyTable" \
	"$O1/SigningTable:6: '\\*@od\\*.example': a wildcard dkimgate cannot index"; do
	check "reported: ${want#"$O1"/}" grep -q "warning event=source reason=\"$want" "$log"
	check "  and by dkimgate -n" grep -q "^$want" "$O/n.out"
done
mc od3 "$M/od3.example.eml"
expect_eq "od3.example (only malformed lines) is not signed" "$(nsigs od3)" "0"
nwarn=$(grep -c 'warning event=source' "$log")
kill -HUP "$dg_pid"
check "a reload with the tables unchanged" wait_log 'reloaded config=.* trigger=signal' 1
expect_eq "  reuses them: no new warnings" "$(grep -c 'warning event=source' "$log")" "$nwarn"
printf 'new new.example:news:%s/new.pem\n' "$O1" >>"$O1/KeyTable"
printf '*@new.example new\n' >>"$O1/SigningTable"
kill -HUP "$dg_pid"
check "a reload after adding new.example" wait_log 'reloaded config=.* trigger=signal' 2
expect_eq "new.example signs" "$(signed_as new1 new.example)" "new.example/news"
grep -v 'new.example' "$O1/SigningTable" >"$O1/SigningTable.new"
mv "$O1/SigningTable.new" "$O1/SigningTable"
kill -HUP "$dg_pid"
check "a reload after removing new.example" wait_log 'reloaded config=.* trigger=signal' 3
expect_eq "new.example is no longer signed" "$(signed_as new2 new.example) $(nsigs new2)" " 0"
expect_eq "od1.example still signs" "$(signed_as od1b od1.example)" "od1.example/sel1"
rm -f "$O1/KeyTable"
kill -HUP "$dg_pid"
check "a missing KeyTable refuses the reload" \
	wait_log "error event=reload reason=\"$conf:[0-9]*: $O1/KeyTable: No such file" 1
expect_eq "  and the running tables stay" "$(signed_as od1c od1.example)" "od1.example/sel1"

# ---- 4. LMDB ----
echo "# 4. LMDB map"
command -v mdb_load >/dev/null || skip_or_fail "mdb_load (lmdb-utils) missing"
L=$work/lmdb
mkdir -m 700 "$L"
for k in l1 l2 l3; do newkey "$L/$k.pem"; done
# mdbput MAP PATTERN VALUE...: store each pair (overwriting), as a writer would.
mdbput() {
	local map=$1
	shift
	{
		printf 'VERSION=3\nformat=print\ntype=btree\nHEADER=END\n'
		while [ $# -ge 2 ]; do printf ' %s\n %s\n' "$1" "$2"; shift 2; done
		printf 'DATA=END\n'
	} | mdb_load -n -f /dev/stdin "$map" || not_ok "mdb_load $map"
}
for d in l1.example l2.example l3.example lbad.example; do msg "$d"; done
mdbput "$L/keys.lmdb" l1.example "l1.example:s1:$L/l1.pem" lbad.example "lbad.example:s1"
{ base_conf; echo 'watch_interval = 1;'
  printf 'sources = ( { type = "lmdb"; path = "%s/keys.lmdb"; } );\n' "$L"; } >"$conf"
restart
expect_eq "l1.example signs from the map" "$(signed_as l1 l1.example)" "l1.example/s1"
expect_eq "l2.example is not in the map" "$(signed_as l2a l2.example) $(nsigs l2a)" " 0"
mdbput "$L/keys.lmdb" l2.example "l2.example:s2:$L/l2.pem"
expect_eq "l2.example added to the map signs with the next message" \
	"$(signed_as l2b l2.example)" "l2.example/s2"
mdbput "$L/keys.lmdb" l1.example "l1.example:s9:$L/l3.pem"
expect_eq "l1.example's value changed: the new selector signs at once" \
	"$(signed_as l1b l1.example)" "l1.example/s9"
expect_eq "a value that does not parse: not signed" "$(signed_as lbad lbad.example) $(nsigs lbad)" " 0"
check "  and the log says why" \
	grep -q "not-signed .*from=a@lbad.example reason=\"entry lbad.example in $L/keys.lmdb: 'lbad.example:s1' is not" "$log"
"$DKIMGATE" -n -c "$conf" >"$O/ln.out" 2>&1
check "dkimgate -n names the map and the entry" \
	grep -q "^$L/keys.lmdb: 'lbad.example': 'lbad.example:s1' is not" "$O/ln.out"
"$DKIMCTL" testkey --all -c "$conf" --resolver 127.0.0.1@9 --timeout 0.3 >"$O/tk.out" 2>&1
check "dkimctl testkey --all goes through the map's keys" \
	eval 'grep -q "^key l1.example.s9 ($L/l3.pem)" "$O/tk.out" && grep -q "^key l2.example.s2 ($L/l2.pem)" "$O/tk.out"'
nrel=$(grep -c 'reloaded config=.* trigger=watch' "$log")
mdbput "$L/new.lmdb" l1.example "l1.example:s9:$L/l3.pem"
mv "$L/new.lmdb" "$L/keys.lmdb"
mv "$L/new.lmdb-lock" "$L/keys.lmdb-lock"
check "a new map put in place is noticed by the scan" \
	wait_log 'reloaded config=.* trigger=watch' $((nrel + 1)) 60
expect_eq "  l2.example, not in it, stops" "$(signed_as l2c l2.example) $(nsigs l2c)" " 0"
expect_eq "  l1.example still signs" "$(signed_as l1c l1.example)" "l1.example/s9"
still_alive "at the end"
sanitizer_report
proto_finish
