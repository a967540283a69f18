#!/usr/bin/env bash
# Installs Debian's OpenLDAP server (slapd, slapadd) and clients (ldapsearch)
# for the side-by-side benchmark, when they are missing. The package's own
# slapd service is kept from starting (a temporary policy-rc.d answering 101):
# the benchmark runs a private slapd on 127.0.0.1 with its own config, and a
# system slapd would listen beyond loopback and share the CPU. Idempotent.
set -euo pipefail

need=()
[ -x /usr/sbin/slapd ] && [ -x /usr/sbin/slapadd ] || need+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-slapd.sh: missing ${need[*]}; install them (apt-get install ${need[*]}) as root" >&2
  exit 1
fi

policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
echo "install-slapd.sh: installing ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
