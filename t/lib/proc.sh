# proc.sh - process helpers shared by the shell tests (source it).
#
#   alive PID            true if PID runs and is not a zombie
#   stop_pid PID [TENTHS]  TERM, wait up to TENTHS/10 s (default 100), then
#                        KILL; reaps the process when it is our child

alive() {
	local st
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ "$st" != Z ]
}

stop_pid() {
	local pid=$1 n=${2:-100}
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null
	while alive "$pid" && [ "$n" -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	alive "$pid" && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}
