#!/usr/bin/env bash
# run-banned.sh - the C sources must not call the string functions that
# cannot be bounded or checked: sprintf, vsprintf, strcpy, strcat, strncpy,
# strtok, atoi, sscanf, gets (see the project's style guide). Text goes
# through the bounded builder (milter/core/buf.h), snprintf or str_copy instead.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$top_srcdir" || exit 1
files=$(find milter keys t -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "not ok - no C sources found under $top_srcdir"; exit 1; }
# A call is the name as a whole word followed by "(", outside comments.
hits=$(for f in $files; do
	sed -e 's://.*$::' "$f" | awk -v f="$f" '
		{ line = $0
		  # drop /* ... */ comments, also across lines
		  out = ""
		  while (length(line) > 0) {
			if (inc) { p = index(line, "*/"); if (!p) { line = ""; break }
				   line = substr(line, p + 2); inc = 0; continue }
			p = index(line, "/*")
			if (!p) { out = out line; break }
			out = out substr(line, 1, p - 1); line = substr(line, p + 2); inc = 1
		  }
		  if (out ~ /(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|sscanf|gets)[ \t]*\(/)
			printf "%s:%d: %s\n", f, NR, $0 }'
done)
n=$(echo "$files" | wc -l)
if [ -n "$hits" ]; then
	echo "not ok - banned string functions in use:"
	echo "$hits"
	exit 1
fi
echo "ok - no banned string function in $n C files"
# The check itself must be able to fail.
probe=$(printf 'int f(char *d){ strcpy(d, "x"); return 0; }\n' | awk '
	/(^|[^A-Za-z0-9_])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|sscanf|gets)[ \t]*\(/ { print "hit" }')
[ "$probe" = hit ] && echo "ok - the pattern catches a strcpy call" || { echo "not ok - pattern misses strcpy"; exit 1; }
exit 0
