#!/usr/bin/env bash
# run-install.sh - make install into a DESTDIR puts every piece where an
# operator and the packaging expect it, and make uninstall removes it.
set -u
top_builddir=${top_builddir:-$(cd "$(dirname "$0")/../.." && pwd)}
MAKE=${MAKE:-make}
dest=$(mktemp -d /tmp/dkimgate-inst.XXXXXX)
trap 'rm -rf "$dest"' EXIT
fail=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fail=1; }

if ! $MAKE -s -C "$top_builddir" install DESTDIR="$dest" >"$dest.log" 2>&1; then
	notok "make install DESTDIR failed: $(tail -20 "$dest.log")"
	rm -f "$dest.log"
	exit 1
fi
rm -f "$dest.log"
prefix=$(sed -n 's/^prefix = //p' "$top_builddir/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$top_builddir/Makefile" | sed -e "s|\${prefix}|$prefix|" -e "s|\$(prefix)|$prefix|")
mandir=$(sed -n 's/^mandir = //p' "$top_builddir/Makefile")
datarootdir=$prefix/share
mandir=${mandir//\$\{datarootdir\}/$datarootdir}
unitdir=$(sed -n 's/^systemdunitdir = //p' "$top_builddir/Makefile" | sed -e "s|\${prefix}|$prefix|" -e "s|\$(prefix)|$prefix|")
tmpfilesdir=$(sed -n 's/^tmpfilesdir = //p' "$top_builddir/Makefile" | sed -e "s|\${prefix}|$prefix|" -e "s|\$(prefix)|$prefix|")

check_file() {	# path mode-test description
	if [ -e "$dest$1" ]; then ok "$2: $1"; else notok "$2 missing: $1"; fi
}
check_file "$prefix/sbin/dkimgate" "daemon in sbin"
check_file "$prefix/bin/dkimctl" "dkimctl in bin"
[ -x "$dest$prefix/sbin/dkimgate" ] && "$dest$prefix/sbin/dkimgate" -V >/dev/null && ok "installed dkimgate runs" \
	|| notok "installed dkimgate does not run"
check_file "$sysconfdir/dkimgate/dkimgate.conf" "sample configuration"
check_file "$mandir/man8/dkimgate.8" "dkimgate(8)"
check_file "$mandir/man5/dkimgate.conf.5" "dkimgate.conf(5)"
check_file "$mandir/man1/dkimctl.1" "dkimctl(1)"
check_file "$unitdir/dkimgate.service" "systemd unit"
check_file "$tmpfilesdir/dkimgate.conf" "tmpfiles.d entry"
if [ -e "$dest$unitdir/dkimgate.service" ]; then
	grep -q "^ExecStart=$prefix/sbin/dkimgate " "$dest$unitdir/dkimgate.service" \
		&& ok "unit runs the installed daemon" || notok "unit ExecStart does not point at $prefix/sbin/dkimgate"
fi
"$dest$prefix/sbin/dkimgate" -n -c "$dest$sysconfdir/dkimgate/dkimgate.conf" >/dev/null 2>&1 \
	&& ok "the installed sample configuration passes dkimgate -n" \
	|| notok "the installed sample configuration fails dkimgate -n"

$MAKE -s -C "$top_builddir" uninstall DESTDIR="$dest" >/dev/null 2>&1
left=$(find "$dest" -type f | head -5)
[ -z "$left" ] && ok "make uninstall removes every file" || notok "left after uninstall: $left"
exit $fail
