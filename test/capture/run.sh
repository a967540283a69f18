#!/usr/bin/env bash
# Regenerates internal/ldap/testdata/captures/*.bin: for each capture, starts
# the capture responder on a free loopback port, runs one real LDAP client
# against it, and keeps the request bytes the responder received.
#
# Needs: Go, apt packages ldap-utils and python3-ldap3 (Debian's ldap3, run
# with /usr/bin/python3). Usage: test/capture/run.sh (from anywhere).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/internal/ldap/testdata/captures
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$ROOT"
export GOTOOLCHAIN=go1.27.3 # as scripts/test: the standard library's security fixes

go build -o "$TMP/responder" ./test/capture
go build -o "$TMP/goldap" ./test/capture/goldap
PY=/usr/bin/python3
LDIF=$ROOT/test/capture/modify.ldif

# Keep OpenLDAP clients from reading ldap.conf / .ldaprc, so the bytes depend
# on the command line only.
export LDAPNOINIT=1

# capture NAME [responder flags...] -- CLIENT ARGS...
# @PORT@ in the client arguments is replaced by the responder's port. The
# client must exit with status EXPECT_STATUS (default 0; ldapcompare exits 6
# for compareTrue, a refused SASL bind gives 7 or 250), else the run fails.
capture() {
	local name=$1 port pid status=0
	shift
	local rflags=()
	while [[ $1 != -- ]]; do
		rflags+=("$1")
		shift
	done
	shift
	rm -f "$TMP/port"
	"$TMP/responder" -out "$OUT/$name.bin" -port-file "$TMP/port" "${rflags[@]}" &
	pid=$!
	for _ in $(seq 200); do
		[[ -s $TMP/port ]] && break
		sleep 0.05
	done
	port=$(cat "$TMP/port")
	local args=()
	for a in "$@"; do
		args+=("${a//@PORT@/$port}")
	done
	"${args[@]}" >"$TMP/client.log" 2>&1 || status=$?
	if [[ $status != "${EXPECT_STATUS:-0}" ]]; then
		echo "$name: client exited $status, want ${EXPECT_STATUS:-0}:" >&2
		cat "$TMP/client.log" >&2
		kill "$pid" 2>/dev/null || true
		exit 1
	fi
	wait "$pid"
	printf '%-36s %5d bytes\n' "$name.bin" "$(stat -c %s "$OUT/$name.bin")"
}

URL=ldap://127.0.0.1:@PORT@
BIND=(-D uid=svc,dc=acme,dc=okta,dc=com -w secret)
USERS=ou=users,dc=acme,dc=okta,dc=com
JDOE=uid=jdoe,$USERS
COMPLEX='(&(objectClass=inetOrgPerson)(|(cn=J*n*)(!(mail=*@example.com)))(uid>=a)(cn~=jon)(cn:caseExactMatch:=X)(cn:dn:=acme))'

# OpenLDAP command-line clients.
capture openldap_search -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS '(uid=jdoe)' cn mail memberOf
capture openldap_search_base -- ldapsearch -x -H $URL "${BIND[@]}" -s base -b $JDOE '(objectClass=*)'
capture openldap_search_one -- ldapsearch -x -H $URL "${BIND[@]}" -s one -b $USERS '(objectClass=inetOrgPerson)' uid
capture openldap_search_complex -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS "$COMPLEX" cn
capture openldap_search_paged -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS -E pr=2/noprompt '(objectClass=person)' uid
capture openldap_search_paged_2pages -pages 2 -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS -E pr=2/noprompt '(objectClass=person)' uid
capture openldap_search_paged_critical -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS -E '!pr=10/noprompt' '(objectClass=person)' uid
capture openldap_search_limits -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS -z 5 -l 3 '(uid=jdoe)' cn
capture openldap_search_typesonly -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS -A '(uid=jdoe)' cn mail
capture openldap_search_allattrs -- ldapsearch -x -H $URL "${BIND[@]}" -b $USERS '(uid=jdoe)' '*' '+'
capture openldap_search_anonymous -- ldapsearch -x -H $URL -b $USERS '(uid=jdoe)' cn
capture openldap_search_starttls -- ldapsearch -Z -x -H $URL "${BIND[@]}" -b $USERS '(uid=jdoe)' cn
capture openldap_whoami -- ldapwhoami -x -H $URL "${BIND[@]}"
# SASL binds are refused with authMethodNotSupported (7). EXTERNAL has no
# mechanism over plain ldap:// (no TLS or ldapi identity), so libldap sends
# only an Unbind; PLAIN needs -O none to be allowed without a security layer.
EXPECT_STATUS=250 capture openldap_whoami_sasl_external -- ldapwhoami -Y EXTERNAL -H $URL
EXPECT_STATUS=7 capture openldap_whoami_sasl_plain -- ldapwhoami -Y PLAIN -O none -U jdoe -w secret -H $URL
EXPECT_STATUS=7 capture openldap_whoami_sasl_digestmd5 -- ldapwhoami -Y DIGEST-MD5 -U jdoe -w secret -H $URL
EXPECT_STATUS=6 capture openldap_compare -- ldapcompare -x -H $URL "${BIND[@]}" $JDOE mail:jdoe@acme.com
capture openldap_modify -- ldapmodify -x -H $URL "${BIND[@]}" -f "$LDIF"
capture openldap_passwd -- ldappasswd -x -H $URL "${BIND[@]}" -s newpw $JDOE

# go-ldap v3 (version pinned in go.mod).
for s in bind search paged whoami modify add del compare moddn passwd; do
	capture goldap_$s -- "$TMP/goldap" -url $URL -scenario $s
done
capture goldap_paged_2pages -pages 2 -- "$TMP/goldap" -url $URL -scenario paged

# python3-ldap3 (Debian package).
for s in bind anonymous info search paged compare modify add delete moddn whoami passwd abandon; do
	capture ldap3_$s -- $PY "$ROOT/test/capture/ldap3_client.py" @PORT@ $s
done
