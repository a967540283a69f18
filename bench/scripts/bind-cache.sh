#!/bin/sh
# bind-cache.sh: the bind cache's trade-off. Imports the data set into a
# fresh dirgate, sets argon2id passwords (the default cost) for the first
# USERS users, and runs the bind load against them with the bind cache on
# (the default) and off; first, for comparison, the imported {SSHA} users.
#
#   bench/scripts/bind-cache.sh [USERS [CONNS [DURATION]]]
set -eu
users=${1:-200}
conns=${2:-16}
duration=${3:-5s}
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=go1.27.3 # as scripts/test: the standard library's security fixes
work=$(mktemp -d)
trap 'pkill -f "dirgate serve --data $work/d" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/dirgate" ./cmd/dirgate
go build -o "$work/dgbench" ./bench/cmd/dgbench
"$work/dgbench" gen -users 10000 -service -dirgate -o "$work/u.ldif"
"$work/dirgate" init --data "$work/d" --org bench >/dev/null
"$work/dirgate" import --data "$work/d" --org bench "$work/u.ldif" | tail -1
run() { # $1: label, $2: bind cache TTL, $3: users the load binds as, $4: warm-up
	"$work/dirgate" serve --data "$work/d" --no-demo --allow-plaintext --ldap 127.0.0.1:13899 --ldaps "" \
		--http 127.0.0.1:18099 --http-plaintext --bind-cache-ttl "$2" >"$work/serve.log" 2>&1 &
	until curl -sf http://127.0.0.1:18099/readyz >/dev/null; do sleep 0.05; done
	pid=$(pgrep -f "dirgate serve --data $work/d")
	printf '%-40s ' "$1"
	"$work/dgbench" load -url ldap://127.0.0.1:13899 -op bind -conns "$conns" -duration "$duration" -warmup "$4" \
		-pid "$pid" -users "$3" -load-seed 7
	kill "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}
run "{SSHA} imported (the cache skips them)" 2m 10000 1s
echo "setting argon2id passwords for $users users…"
"$work/dgbench" passwords -users "$users" | while read -r uid pw; do
	printf '%s\n' "$pw" | "$work/dirgate" user set-password --data "$work/d" --org bench --login "$uid" --password-stdin >/dev/null
done

# Long enough a warm-up that every user has bound once (the first bind
# of each pays argon2id either way).
run "argon2id, bind cache on (2m)" 2m "$users" 10s
run "argon2id, bind cache off" 0 "$users" 1s
