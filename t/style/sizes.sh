#!/bin/bash
# sizes.sh DIR... - file and function size histograms of the C sources
# below DIR (a function is a top-level brace block opened by a line that
# starts with "{" after a line that starts a declarator). Not run by make
# check: it reports the figures quoted when the layout of the code changes.
# Usage: t/style/sizes.sh milter keys
files=$(find "$@" -name '*.[ch]' | sort)
echo "== file sizes (lines)"
wc -l $files | grep -v ' total$' | awk '{print $1}' | sort -n | awk '
{a[NR]=$1; s+=$1} END {n=NR; printf "files %d  total %d  median %d  max %d\n", n, s, a[int((n+1)/2)], a[n];
 split("100 200 300 500 800 100000",b," "); lo=0; for(i=1;i<=6;i++){c=0; for(j=1;j<=n;j++) if(a[j]>lo && a[j]<=b[i]) c++; printf "  %5d-%-6d %d\n", lo+1, b[i], c; lo=b[i]}}'
echo "== function sizes (lines, top-level brace blocks in .c)"
for f in $files; do case $f in *.c) awk '
/^[a-zA-Z].*\(/ {cand=1}
/^\{/ { if (cand) { start=NR; infn=1 } }
/^\}/ { if (infn) { print NR-start+1; infn=0; cand=0 } }
' "$f";; esac; done | sort -n | awk '{a[NR]=$1} END {n=NR; printf "functions %d  median %d  max %d  >80 lines: ", n, a[int((n+1)/2)], a[n]; c=0; for(j=1;j<=n;j++) if(a[j]>80)c++; print c;
 split("10 20 40 80 100000",b," "); lo=0; for(i=1;i<=5;i++){c=0; for(j=1;j<=n;j++) if(a[j]>lo && a[j]<=b[i]) c++; printf "  %5d-%-6d %d\n", lo+1, b[i], c; lo=b[i]}}'
