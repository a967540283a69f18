#!/usr/bin/env bash
# The scale row of bench/README.md in one command: generates N users (N/50
# groups), imports them into a fresh dirgate data directory, starts
# `dirgate serve` and reports import time, start-up to /readyz, resident
# memory after start-up, and a short search-uid and bind load. Start-up is
# measured three times: the first right after the import, then twice more.
#   bench/scripts/scale.sh 100000            # work directory: /tmp/dirgate-scale
#   SCALE_DIR=/var/tmp/s LOAD=0 bench/scripts/scale.sh 1000000
# PPROF=1 also saves a heap profile after start-up to $SCALE_DIR/heap.pprof.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=go1.27.3 # as scripts/test: the standard library's security fixes
users=${1:-100000}
dir=${SCALE_DIR:-/tmp/dirgate-scale}
load=${LOAD:-1}
ldap_port=${LDAP_PORT:-13895}
http_port=${HTTP_PORT:-18095}
pprof_port=${PPROF_PORT:-16095}

mkdir -p "$dir/bin"
go build -o "$dir/bin/dirgate" ./cmd/dirgate
go build -o "$dir/bin/dgbench" ./bench/cmd/dgbench
dg=$dir/bin/dirgate
bench=$dir/bin/dgbench

ldif=$dir/u$users.ldif
[ -s "$ldif" ] || "$bench" gen -users "$users" -service -dirgate -o "$ldif" >/dev/null
rm -rf "$dir/data"
"$dg" init --data "$dir/data" --org bench >"$dir/init.log" 2>&1
t0=$(date +%s.%N)
"$dg" import --data "$dir/data" --org bench "$ldif" >"$dir/import.log" 2>&1
t1=$(date +%s.%N)

extra=()
[ "${PPROF:-0}" = 1 ] && extra=(--pprof "127.0.0.1:$pprof_port")
# start starts dirgate serve and waits for /readyz; it sets pid and
# startup (seconds).
start() {
	local t0 t1
	t0=$(date +%s.%N)
	"$dg" serve --data "$dir/data" --no-demo --allow-plaintext --ldap "127.0.0.1:$ldap_port" --ldaps "" \
		--http "127.0.0.1:$http_port" --http-plaintext "${extra[@]}" >"$dir/serve.log" 2>&1 &
	pid=$!
	until curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1; do
		kill -0 $pid 2>/dev/null || { cat "$dir/serve.log"; exit 1; }
		sleep 0.02
	done
	t1=$(date +%s.%N)
	startup=$(echo "$t1 - $t0" | bc)
}
trap 'kill $pid 2>/dev/null || true' EXIT
# Start-up three times (the first right after the import); the rest of the
# figures are of the third server, which keeps running for the load.
starts=()
for i in 1 2 3; do
	[ $i -gt 1 ] && { kill $pid; wait $pid 2>/dev/null || true; }
	start
	starts+=("$(printf '%.2f' "$startup")")
	grep -h 'snapshot' "$dir/serve.log" | sed 's/^.*msg=/  /' >&2
done
sleep 1
rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
[ "${PPROF:-0}" = 1 ] && curl -fsS "http://127.0.0.1:$pprof_port/debug/pprof/heap" -o "$dir/heap.pprof"

printf 'users %d: import %.1f s, start-up to ready %s s, RSS after start-up %.1f MB (peak %.1f MB)\n' \
	"$users" "$(echo "$t1 - $t0" | bc)" "${starts[*]}" "$(echo "$rss / 1000" | bc -l)" "$(echo "$hwm / 1000" | bc -l)"
if [ "$load" = 1 ]; then
	for op in search-uid bind; do
		printf '%s at 16 conns: ' "$op"
		"$bench" load -url "ldap://127.0.0.1:$ldap_port" -op $op -conns 16 -duration 5s -warmup 1s \
			-pid $pid -users "$users" 2>&1 | tail -1
	done
fi
