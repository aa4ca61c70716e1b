#!/bin/bash
# run-import.sh - dkimctl import-opendkim on OpenDKIM tables shaped like the
# ones found on real hosts (key names like "mail._domainkey.example.com",
# one directory of keys per domain, comments and blank lines, refile:
# wildcards, a news address with its own entry, keys shared by domains).
#
# Checks, one "ok - ..." or "not ok - ..." line each:
#  1. A clean pair converts with exit status 0 and no problem line; the
#     lists it prints, pasted into a dkimgate.conf, pass dkimgate -n, and
#     dkimgate -E picks the entry a receiver would expect for each address
#     (address beats domain beats *.domain beats *).
#  2. A pair with what cannot be carried over (a KeyTable domain of "%",
#     key data instead of a file name, a line with no key, a key name
#     missing from the KeyTable, a SigningTable line with no key, a
#     wildcard that cannot be indexed, a refile pattern without "@", a
#     duplicate key name, a missing and an undecodable key file, a key
#     nothing uses) exits 1, names each with file:line, still converts the
#     rest (dkimgate -n accepts it), and says that OpenDKIM's first-match
#     order differs.
#  3. Bad arguments exit 3; a SigningTable that does not exist exits 3.
#
# Run by "make check" or by hand; DKIMCTL= and DKIMGATE= override the
# programs. Exit status: 0 all checks passed, 1 a check failed.

set -u
here=$(cd "$(dirname "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
DKIMCTL=${DKIMCTL:-$top_builddir/dkimctl}
DKIMGATE=${DKIMGATE:-$top_builddir/dkimgate}

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1 (got '$2', want '$3')"; fi
}
for p in "$DKIMCTL" "$DKIMGATE"; do
	[ -x "$p" ] || { not_ok "$p not built"; exit 1; }
done
command -v openssl >/dev/null || { not_ok "openssl missing"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dkimgate-import.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
K=$work/etc/opendkim/keys
for d in example.com example.org example.net; do
	mkdir -p "$K/$d"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
		-out "$K/$d/mail.private" 2>/dev/null || { not_ok "openssl genpkey"; exit 1; }
	chmod 600 "$K/$d/mail.private"
done
openssl genpkey -algorithm ED25519 -out "$K/example.org/ed.private" 2>/dev/null
chmod 600 "$K/example.org/ed.private"

# ---- 1. a clean pair ----
cat >"$work/KeyTable" <<EOF
# OpenDKIM KeyTable: name domain:selector:keyfile
mail._domainkey.example.com  example.com:mail:$K/example.com/mail.private
mail._domainkey.example.org  example.org:mail:$K/example.org/mail.private
ed._domainkey.example.org    example.org:ed:$K/example.org/ed.private

mail._domainkey.example.net	example.net:mail:$K/example.net/mail.private
EOF
cat >"$work/SigningTable" <<EOF
# refile: patterns, matched against the whole From: address
*@example.com          mail._domainkey.example.com
*@*.example.com        mail._domainkey.example.com
*@example.org          mail._domainkey.example.org
*@example.org          ed._domainkey.example.org
newsletter@example.org mail._domainkey.example.net
*                      mail._domainkey.example.net
EOF
"$DKIMCTL" import-opendkim "$work/KeyTable" "refile:$work/SigningTable" \
	>"$work/clean.conf" 2>"$work/clean.err"
rc=$?
expect_eq "a clean pair converts with exit status 0" "$rc" 0
expect_eq "  and no problem line" "$(grep -c ':[0-9]*: ' "$work/clean.err")" 0
check "  the summary counts 4 keys and 5 entries" \
	grep -q 'import-opendkim: 4 keys, 5 signing_table entries carried over; 0 line' "$work/clean.err"
check "  it says OpenDKIM's first-match order differs" grep -q 'OpenDKIM uses the first line' "$work/clean.err"
{
	printf 'socket = "unix:%s/s.sock";\nkey_check = "off";\nstate_dir = "";\n' "$work"
	cat "$work/clean.conf"
} >"$work/dkimgate.conf"
quiet() { "$@" >/dev/null 2>"$work/quiet.err" || { sed 's/^/# /' "$work/quiet.err"; return 1; }; }
check "  the lists pass dkimgate -n" quiet "$DKIMGATE" -n -c "$work/dkimgate.conf"
explain() {
	"$DKIMGATE" -E -c "$work/dkimgate.conf" --client 127.0.0.1 --from "$1" |
		sed -n "s/^key '\([^']*\)'.*/\1/p" | tr '\n' ' ' | sed 's/ $//'
}
expect_eq "  -E: a@example.com" "$(explain a@example.com)" "mail._domainkey.example.com"
expect_eq "  -E: a@shop.example.com (*@*.example.com)" "$(explain a@shop.example.com)" \
	"mail._domainkey.example.com"
expect_eq "  -E: a@example.org signs twice (the pattern on two lines)" "$(explain a@example.org)" \
	"mail._domainkey.example.org ed._domainkey.example.org"
expect_eq "  -E: newsletter@example.org (the address wins)" "$(explain newsletter@example.org)" \
	"mail._domainkey.example.net"
expect_eq "  -E: a@elsewhere.test (*)" "$(explain a@elsewhere.test)" "mail._domainkey.example.net"

# ---- 2. what cannot be carried over ----
printf 'garbage\n' >"$K/example.net/broken.private"
chmod 600 "$K/example.net/broken.private"
cat >"$work/KeyTable2" <<EOF
mail._domainkey.example.com  example.com:mail:$K/example.com/mail.private
generic                      %:mail:$K/example.com/mail.private
inline                       example.net:x:MIICXAIBAAKBgQDwIRP/UC3SBsEmGqZ9ZJW3
nokey
gone                         example.org:gone:$K/example.org/gone.private
broken                       example.net:broken:$K/example.net/broken.private
mail._domainkey.example.com  example.com:dup:$K/example.com/mail.private
spare                        example.org:mail:$K/example.org/mail.private
EOF
cat >"$work/SigningTable2" <<EOF
*@example.com      mail._domainkey.example.com
*@example.org      gone
*@example.net      broken
*@example.*        mail._domainkey.example.com
example.com        mail._domainkey.example.com
*@other.example    nosuchkey
*
EOF
"$DKIMCTL" import-opendkim "$work/KeyTable2" "refile:$work/SigningTable2" \
	>"$work/bad.conf" 2>"$work/bad.err"
rc=$?
expect_eq "a pair with problems exits 1" "$rc" 1
for want in \
	"KeyTable2:2: key 'generic': '%' (the domain of the From: address) is not supported" \
	"KeyTable2:3: key 'inline': the key must be a file named by its absolute path" \
	"KeyTable2:4: key 'nokey' has no DOMAIN:SELECTOR:KEYFILE" \
	"KeyTable2:5: key 'gone': key file $K/example.org/gone.private: No such file or directory" \
	"KeyTable2:6: key 'broken': $K/example.net/broken.private: not a PEM private key" \
	"KeyTable2:7: duplicate key id 'mail._domainkey.example.com' (first at line 1)" \
	"KeyTable2:8: key 'spare' is used by no SigningTable line" \
	"SigningTable2:4: '\\*@example.\\*': a wildcard dkimgate cannot index" \
	"SigningTable2:5: 'example.com': a refile pattern without '@' is matched against the whole address" \
	"SigningTable2:6: no key 'nosuchkey' in the KeyTable" \
	"SigningTable2:7: '\\*' names no key"; do
	check "  reported: $want" grep -q "^$work/$want" "$work/bad.err"
done
{
	printf 'socket = "unix:%s/s.sock";\nkey_check = "off";\nstate_dir = "";\n' "$work"
	cat "$work/bad.conf"
} >"$work/dkimgate2.conf"
check "  what was carried over passes dkimgate -E" \
	quiet "$DKIMGATE" -E -c "$work/dkimgate2.conf" --from a@example.com
expect_eq "  example.com is carried over" \
	"$(grep -c '{ from = "example.com"; keys = \[ "mail._domainkey.example.com" \]; }' "$work/bad.conf")" 1

# ---- 3. arguments ----
"$DKIMCTL" import-opendkim "$work/KeyTable" >/dev/null 2>&1
expect_eq "one argument: exit 3" "$?" 3
"$DKIMCTL" import-opendkim "$work/KeyTable" "$work/nothing" >/dev/null 2>"$work/none.err"
expect_eq "a SigningTable that does not exist: exit 3" "$?" 3
check "  and it is named" grep -q "$work/nothing: No such file" "$work/none.err"

echo "# $npass passed, $nfail failed"
[ "$nfail" -eq 0 ]
