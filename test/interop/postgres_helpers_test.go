package interop

import (
	"testing"

	"github.com/dirgate/dirgate/internal/pghba"
	"github.com/dirgate/dirgate/internal/pgtest"
)

// startPostgres starts a private cluster (internal/pgtest) whose
// pg_hba.conf lets the superuser in over the unix socket and everyone
// else only through hbaLines; its LDAP client trusts caFile.
func startPostgres(t *testing.T, caFile string, hbaLines ...string) *pgtest.Cluster {
	t.Helper()
	return pgtest.Start(t, pgtest.Options{CAFile: caFile, HBA: hbaLines})
}

func freePort(t *testing.T) int { return pgtest.FreePort(t) }

// pgHBALDAP is the reference documents' search+bind line for one org over
// LDAPS, written by internal/pghba (as `dirgate pg-hba` prints it), for
// connections from 127.0.0.1.
func pgHBALDAP(iamID, ldapHost string, ldapsPort int, baseDN, bindDN, bindPW string) string {
	k := pghba.Kit{Host: ldapHost, LDAPSPort: ldapsPort, BaseDN: baseDN, BindDN: bindDN, BindPassword: bindPW,
		IAMID: iamID, Address: "127.0.0.1/32"}
	return k.Lines()[0].Text
}
