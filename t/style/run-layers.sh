#!/usr/bin/env bash
# run-layers.sh - the sources keep their layers (milter/README.md):
#   core    milter/core    the DKIM engine and its base (no I/O)
#   svc     milter/svc     services: DNS, configuration, key tables, ...
#   daemon  milter/daemon  libmilter callbacks, the key watcher, main
#   dkimctl keys           the command-line tool (core and services only)
# Fails when a file includes a header of a layer above its own, when an
# object file calls a function of a layer above its own, or when files
# call each other (directly or round a loop); see t/style/layers.py.
# Needs the built libraries and programs (make check builds them) and
# nm (binutils) and python3.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
b=$top_builddir
for p in nm python3; do
	if ! command -v "$p" >/dev/null 2>&1; then
		echo "not ok - $p not installed"
		[ -n "${CI:-}" ] && exit 1
		exit 77
	fi
done
objs=(core="$b/libcore.a" svc="$b/libsvc.a" daemon="$b/libdaemon.a")
for o in "$b"/milter/daemon/dkimgate-*.o; do objs+=(daemon="$o"); done
for o in "$b"/keys/dkimctl-*.o; do objs+=(dkimctl="$o"); done
for o in "${objs[@]}"; do
	[ -e "${o#*=}" ] || { echo "not ok - ${o#*=} not built"; exit 1; }
done
if python3 "$top_srcdir/t/style/layers.py" "$top_srcdir" "${objs[@]}"; then
	echo "ok - includes and calls go down the layers, with no cycle"
	exit 0
fi
echo "not ok - the layers are broken (see above)"
exit 1
