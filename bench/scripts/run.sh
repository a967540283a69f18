#!/usr/bin/env bash
# The side-by-side benchmark in one command: installs slapd if missing, then
# runs dirgate, slapd and the null server on generated data sets and prints
# the Markdown comparison. Flags go to dgcompare (bench/README.md), e.g.
#   bench/scripts/run.sh -users 10000 -rounds 3 -duration 3s -warmup 1s -out results.md
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
export GOTOOLCHAIN=go1.27.3 # as scripts/test: the standard library's security fixes
bench/scripts/install-slapd.sh
exec go run ./bench/compare/cmd/dgcompare "$@"
