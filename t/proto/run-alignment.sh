#!/bin/bash
# run-alignment.sh - DKIM alignment through the daemon's socket, with the
# RFC 9989 DNS Tree Walk (verify.alignment = "rfc9989", the default) and
# with the public suffix list (verify.alignment = "rfc7489").
#
# The test DNS server (t/dns/testdns) publishes one Ed25519 key under
# every signing domain below and these DMARC records:
#   _dmarc.psd.example    v=DMARC1; p=reject; psd=y   (a public suffix domain)
#   _dmarc.corp.example   v=DMARC1; p=none            (several labels up)
#   _dmarc.tags.example   unknown and removed tags, adkim=s, p= last
# and _dmarc.broken.example answers SERVFAIL.  Checks, one "ok - ..." or
# "not ok - ..." line each; every Authentication-Results field must parse
# with python3-authres (t/proto/proto-check.py):
#  1. rfc9989: From mail.brand.psd.example, d=brand.psd.example aligns
#     (psd=y above: the Organizational Domain is brand.psd.example, adkim
#     from _dmarc.psd.example), the two walks asking each name once;
#     d=other.psd.example does not.
#  2. rfc9989: From a.b.c.corp.example, d=corp.example aligns: the record
#     three labels up is the policy and the Organizational Domain.
#     From x.dept.corp.example, with adkim=s at _dmarc.dept.corp.example:
#     the record that applies is the Organizational Domain's (section
#     4.10.1), so adkim=r and d=corp.example aligns.
#     From a 248-character domain (no _dmarc name can be built for it)
#     the walk goes on above it and aligns the same way.
#  3. rfc9989: the reordered record with unknown tags is read: adkim=s, so
#     d=mail.tags.example is relaxed-aligned only: unaligned-pass.
#  4. rfc9989: From a 10-label name: the daemon logs dmarc_queries=8 and
#     the DNS server saw exactly the walk's names under deep.example (the
#     name itself, then its last 7 labels, then one label less each time).
#  5. rfc9989: SERVFAIL at _dmarc.broken.example: a passing d=broken.example
#     gets policy.align=temperror and the verdict dkim-alignment=temperror
#     (never a guess); with a strictly aligned signature beside it the
#     verdict is aligned-pass.
#  6. rfc9989: a record with psd=n at the From: domain ends the walk at
#     one query; the outcome is cached for the record's TTL, so the same
#     message twice makes one query at the DNS server, and the second logs
#     dmarc_queries=0.
#  7. rfc7489 (daemon restarted): the PSL says psd.example is the
#     Organizational Domain, so d=other.psd.example aligns; the SERVFAIL
#     is not looked at for the Organizational Domain: aligned-pass.
#  8. verify.dmarc_lookup = false: nothing is looked up (the DNS server sees
#     no _dmarc query), adkim is r and the PSL decides.
#  9. A bad verify.alignment value is refused by dkimgate -n.
#
# Exit status: 0 all checks passed, 1 a check failed, 77 skipped (a tool
# is missing and CI is not "true").

set -u
. "$(dirname "$0")/proto-lib.sh"
proto_require
proto_setup align

genkey ed k1
deep=l1.l2.l3.l4.l5.l6.l7.l8.deep.example
domains="own.example brand.psd.example other.psd.example corp.example mail.tags.example
	broken.example news.broken.example $deep"
{
	for d in $domains; do printf 's1._domainkey.%s\tTXT\t%s\n' "$d" "$(ed_rec "$K/k1.pem")"; done
	printf '_dmarc.psd.example\tTXT\tv=DMARC1; p=reject; psd=y\n'
	printf '_dmarc.corp.example\tTXT\tv=DMARC1; p=none\n'
	printf '_dmarc.dept.corp.example\tTXT\tv=DMARC1; p=none; adkim=s\n'
	printf '_dmarc.own.example\tTXT\tv=DMARC1; p=none; psd=n; adkim=s\n'
	printf '_dmarc.tags.example\tTXT\tv=DMARC1; zz=future; adkim=s; pct=50; ri=3600; rf=afrf; p=none\n'
} >"$work/records.tsv"
port=$("$testdns" start "$work/dns" --servfail _dmarc.broken.example "$work/records.tsv") ||
	die "test DNS server did not start"
resolver=127.0.0.1@$port

# write_conf MODE [DMARC_LOOKUP]: the configuration, verify.alignment = MODE.
write_conf() {
	cat >"$conf" <<CONF
socket = "unix:$sock";
log = "stderr";
authserv_id = "$AUTHSERV";
verify = { alignment = "$1"; dmarc_lookup = ${2:-true}; };
dns = { resolver = "$resolver"; trust_anchor = ""; timeout = 5; };
CONF
}

# signed NAME FROM DOMAIN...: $M/NAME.eml from FROM, signed s1 by each DOMAIN.
signed() {
	local name=$1 from=$2 d in
	shift 2
	in=$M/$name.0
	printf 'From: <%s>\r\nTo: <bob@example.net>\r\nSubject: %s\r\nDate: Mon, 2 Feb 2026 10:00:00 +0000\r\n\r\nhello\r\n' \
		"$from" "$name" >"$in"
	for d in "$@"; do
		"$DKIMCTL" sign -d "$d" -s s1 -k "$K/k1.pem" "$in" >"$in.s" || die "dkimctl sign $d"
		mv "$in.s" "$in"
	done
	mv "$in" "$M/$name.eml"
}
signed psd-in user@mail.brand.psd.example brand.psd.example
signed psd-out user@mail.brand.psd.example other.psd.example
signed multi user@a.b.c.corp.example corp.example
signed dept user@x.dept.corp.example corp.example
signed tags user@tags.example mail.tags.example
signed deep "user@$deep" "$deep"
signed broken user@news.broken.example broken.example
signed broken2 user@news.broken.example broken.example news.broken.example
signed own user@own.example own.example
# A From: domain so long (248 characters) that _dmarc.DOMAIN is no DNS name.
long=$(printf 'a%.0s' $(seq 58)).$(printf 'b%.0s' $(seq 58)).$(printf 'c%.0s' $(seq 58)).$(printf 'd%.0s' $(seq 58)).corp.example
signed long "u@$long" corp.example

write_conf rfc9989
start_dkimgate
ok "dkimgate started (pid $dg_pid), verify.alignment = rfc9989, DNS on port $port"

echo "# 1. psd=y on the parent"
mc psd-in -c 192.0.2.1 "$M/psd-in.eml"
check "d=brand.psd.example aligns with mail.brand.psd.example below psd=y" archeck psd-in \
	'dkim=pass|header.d=brand.psd.example|policy.align=relaxed|policy.adkim=r|policy.method=rfc9989|policy.org-domain=brand.psd.example' \
	'dkim-alignment=aligned-pass|header.from=mail.brand.psd.example|policy.method=rfc9989|policy.org-domain=brand.psd.example|policy.adkim=r|policy.adkim-source=_dmarc.psd.example'
check "  the From: walk and the d= walk shared their queries: 4 names asked, not 7" \
	grep -q 'from=mail.brand.psd.example .*dmarc_queries=3 dmarc_sent=4 ' "$log"
mc psd-out -c 192.0.2.1 "$M/psd-out.eml"
check "d=other.psd.example is another organization under psd=y: unaligned" archeck psd-out \
	'dkim=pass|header.d=other.psd.example|policy.align=no|policy.org-domain=other.psd.example' \
	'dkim-alignment=unaligned-pass|policy.method=rfc9989|policy.org-domain=brand.psd.example'

echo "# 2. record several labels up"
mc multi -c 192.0.2.1 "$M/multi.eml"
check "a.b.c.corp.example: policy and Organizational Domain from _dmarc.corp.example" archeck multi \
	'dkim=pass|header.d=corp.example|policy.align=relaxed|policy.org-domain=corp.example' \
	'dkim-alignment=aligned-pass|policy.org-domain=corp.example|policy.adkim-source=_dmarc.corp.example'

mc dept -c 192.0.2.1 "$M/dept.eml"
check "x.dept.corp.example: the Organizational Domain's record applies, not dept's adkim=s" \
	archeck dept 'dkim=pass|header.d=corp.example|policy.align=relaxed|policy.adkim=r' \
	'dkim-alignment=aligned-pass|policy.org-domain=corp.example|policy.adkim=r|policy.adkim-source=_dmarc.corp.example'

echo "# 3. reordered record with unknown and removed tags"
mc tags -c 192.0.2.1 "$M/tags.eml"
check "adkim=s read from the reordered record: relaxed only, unaligned-pass" archeck tags \
	'dkim=pass|header.d=mail.tags.example|policy.align=relaxed|policy.adkim=s' \
	'dkim-alignment=unaligned-pass|policy.adkim=s|policy.adkim-source=_dmarc.tags.example|policy.org-domain=tags.example'

mc long -c 192.0.2.1 "$M/long.eml"
check "248-character From: domain: _dmarc of it cannot exist, the walk goes on to corp.example" \
	archeck long 'dkim=pass|policy.align=relaxed|policy.org-domain=corp.example' \
	'dkim-alignment=aligned-pass|policy.org-domain=corp.example|policy.adkim-source=_dmarc.corp.example'

echo "# 4. query bound on a 10-label name"
mc deep -c 192.0.2.1 "$M/deep.eml"
check "10-label From: aligned-pass (strict)" archeck deep \
	'dkim=pass|policy.align=strict' "dkim-alignment=aligned-pass|policy.org-domain=$deep|policy.adkim-source=none"
check "  the daemon logs 8 DMARC queries for it" grep -q "from=$deep .*dmarc_queries=8 " "$log"
asked=$(sed -n 's/.* info: 127\.0\.0\.1 \(_dmarc\.[^ ]*deep\.example\)\. TXT IN$/\1/p' "$work/dns/unbound.log" |
	sort -u | tr '\n' ' ')
want="_dmarc.deep.example _dmarc.$deep _dmarc.l4.l5.l6.l7.l8.deep.example _dmarc.l5.l6.l7.l8.deep.example _dmarc.l6.l7.l8.deep.example _dmarc.l7.l8.deep.example _dmarc.l8.deep.example "
expect_eq "  the DNS server saw the walk's 7 names under deep.example (and _dmarc.example makes 8)" \
	"$asked" "$want"

echo "# 5. DNS failure during the walk"
mc broken -c 192.0.2.1 "$M/broken.eml"
check "SERVFAIL at _dmarc.broken.example: alignment temperror, no adkim guessed" archeck broken \
	'dkim=pass|header.d=broken.example|policy.align=temperror|policy.adkim=|policy.org-domain=' \
	'dkim-alignment=temperror|reason~DNS failure in the DMARC tree walk|policy.method=rfc9989|policy.org-domain=|policy.adkim=|policy.adkim-source='
check "  logged: alignment=temperror adkim=?" grep -q "from=news.broken.example .*alignment=temperror adkim=? method=rfc9989 org=- " "$log"
mc broken2 -c 192.0.2.1 "$M/broken2.eml"
check "  a strictly aligned signature beside it still gives aligned-pass" archeck broken2 \
	'dkim=pass|header.d=news.broken.example|policy.align=strict' \
	'dkim=pass|header.d=broken.example|policy.align=temperror' \
	'dkim-alignment=aligned-pass'

echo "# 6. psd=n ends the walk; the outcome is cached"
mc own -c 192.0.2.1 -n 2 "$M/own.eml"
check "psd=n at the From: domain: org own.example, adkim=s, twice" archeck own --msgs 2 \
	'dkim=pass|policy.align=strict|policy.adkim=s|policy.org-domain=own.example' \
	'dkim-alignment=aligned-pass|policy.org-domain=own.example|policy.adkim-source=_dmarc.own.example'
expect_eq "  logged query counts: 1 then 0 (cached)" \
	"$(newlog | sed -n 's/.* from=own\.example .*dmarc_queries=\([0-9]*\) .*/\1/p' | tr '\n' ' ')" "1 0 "
expect_eq "  the DNS server saw _dmarc.own.example once" \
	"$(grep -c ' info: 127\.0\.0\.1 _dmarc\.own\.example\. TXT IN$' "$work/dns/unbound.log")" 1

echo "# 7. the same messages with verify.alignment = rfc7489"
stop_pid "$dg_pid"
write_conf rfc7489
start_dkimgate
mc psd-in7 -c 192.0.2.1 "$M/psd-in.eml"
check "rfc7489: d=brand.psd.example aligns (PSL: psd.example)" archeck psd-in7 \
	'dkim=pass|policy.align=relaxed|policy.method=rfc7489|policy.org-domain=psd.example' \
	'dkim-alignment=aligned-pass|policy.method=rfc7489|policy.org-domain=psd.example|policy.adkim-source=_dmarc.psd.example'
mc psd-out7 -c 192.0.2.1 "$M/psd-out.eml"
check "rfc7489: d=other.psd.example aligns too, unlike rfc9989" archeck psd-out7 \
	'dkim=pass|header.d=other.psd.example|policy.align=relaxed|policy.org-domain=psd.example' \
	'dkim-alignment=aligned-pass|policy.method=rfc7489'
mc broken7 -c 192.0.2.1 "$M/broken.eml"
check "rfc7489: the SERVFAIL does not decide: aligned-pass by the PSL" archeck broken7 \
	'dkim=pass|policy.align=relaxed|policy.adkim=r' 'dkim-alignment=aligned-pass|policy.method=rfc7489'
mc tags7 -c 192.0.2.1 "$M/tags.eml"
check "rfc7489: adkim=s from the same record" archeck tags7 \
	'dkim=pass|policy.align=relaxed|policy.adkim=s' \
	'dkim-alignment=unaligned-pass|policy.adkim-source=_dmarc.tags.example'

echo "# 8. verify.dmarc_lookup = false: no DMARC lookups, the PSL whatever the method"
stop_pid "$dg_pid"
write_conf rfc9989 false
start_dkimgate
q0=$(grep -c ' info: 127\.0\.0\.1 _dmarc\.' "$work/dns/unbound.log")
mc tags-nolookup -c 192.0.2.1 "$M/tags.eml"
check "adkim defaults to r, relaxed by the PSL: aligned-pass, method rfc7489" archeck tags-nolookup \
	'dkim=pass|policy.align=relaxed|policy.adkim=r|policy.method=rfc7489' \
	'dkim-alignment=aligned-pass|policy.method=rfc7489|policy.adkim-source='
expect_eq "  no _dmarc query reached the DNS server" \
	"$(grep -c ' info: 127\.0\.0\.1 _dmarc\.' "$work/dns/unbound.log")" "$q0"

echo "# 9. configuration"
sed 's/alignment = "rfc9989"/alignment = "psl"/' "$conf" >"$work/bad.conf"
out=$("$DKIMGATE" -n -c "$work/bad.conf" 2>&1)
check "verify.alignment = \"psl\" is refused with the line number" \
	grep -q 'bad.conf:4: verify.alignment must be "rfc9989" or "rfc7489"' <<<"$out"

still_alive "alignment checks"
sanitizer_report
proto_finish
