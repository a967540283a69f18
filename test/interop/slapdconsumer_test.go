package interop

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/bench/slapd"
)

// TestSlapdConsumer replicates an org into OpenLDAP's slapd with its own
// syncrepl consumer (RFC 4533 refreshAndPersist) over LDAPS, bound as the
// read-only service account: the consumer's copy holds the org's users
// and groups after the refresh, and follows a user created, changed and
// deleted in dirgate as the server runs.
func TestSlapdConsumer(t *testing.T) {
	requireLdapsearch(t)
	if _, err := os.Stat(filepath.Join(slapd.DefaultBinDir, "slapd")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("slapd is missing (scripts/test installs it)")
		}
		t.Skip("slapd is missing")
	}
	data := t.TempDir()
	setupExample(t, data)
	s := startDirgate(t, data, "--no-demo")

	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.ldif")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The consumer keeps the attributes its schema knows (dirgate's
	// department and nickName it does not), and checks no schema: the
	// provider's copy is authoritative.
	conf := fmt.Sprintf(`include %[1]s/core.schema
include %[1]s/cosine.schema
include %[1]s/inetorgperson.schema
pidfile %[2]s/slapd.pid
argsfile %[2]s/slapd.args
loglevel sync
modulepath %[3]s
moduleload back_mdb
moduleload syncprov
database mdb
suffix "%[4]s"
rootdn "cn=root,%[4]s"
rootpw secret
directory %[2]s/db
dbnosync
index objectClass,entryUUID,entryCSN eq
syncrepl rid=001
	provider=%[5]s
	type=refreshAndPersist
	retry="1 +"
	searchbase="%[4]s"
	scope=sub
	attrs="objectClass,uid,cn,sn,givenName,mail,title,uniqueMember,description,o,ou,dc,organizationalStatus,uniqueIdentifier"
	schemachecking=off
	bindmethod=simple
	binddn="%[6]s"
	credentials=%[7]s
	tls_cacert=%[8]s
	tls_reqcert=demand
access to * by * read
`, slapd.DefaultSchemaDir, dir, slapd.DefaultModuleDir, exBase, s.ldapsURL, bindDN, bindPW, s.caFile)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	consumer, err := slapd.Start(ctx, slapd.Options{Dir: dir, Suffix: exBase, LDIF: empty, ConfigText: conf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		consumer.Stop()
		if t.Failed() {
			log, _ := os.ReadFile(consumer.LogFile())
			t.Logf("slapd's log:\n%s", log)
		}
	})
	// The consumer's copy, as anyone reads it.
	copyOf := func(filter string, attrs ...string) string {
		t.Helper()
		r := s.ldapTool(t, "ldapsearch", "", append([]string{"-LLL", "-x", "-H", consumer.URL(), "-b", exBase, filter}, attrs...)...)
		if r.code != 0 && r.code != 32 {
			t.Fatalf("ldapsearch on the consumer: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		return r.stdout
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("the consumer never had %s; it holds:\n%s", what, copyOf("(objectClass=*)", "dn"))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	eventually("the org's users and groups", func() bool {
		out := copyOf("(|(uid=alice)(cn=eng))", "uid", "uniqueMember")
		return strings.Contains(out, "dn: uid=alice,"+exUsers) && strings.Contains(out, "uniqueMember: uid=alice,"+exUsers)
	})
	if out := copyOf("(uid=alice)", "mail", "organizationalStatus"); !strings.Contains(out, "mail: alice@example.com") || !strings.Contains(out, "organizationalStatus: ACTIVE") {
		t.Errorf("alice on the consumer:\n%s", out)
	}

	mustDirgate(t, "dave-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "dave", "--email", "dave@example.com", "--password-stdin")
	eventually("dave, created", func() bool { return strings.Contains(copyOf("(uid=dave)", "mail"), "mail: dave@example.com") })
	mustDirgate(t, "", "user", "update", "--data", data, "--org", "example", "--login", "dave", "--set", "title=Diver")
	eventually("dave's new title", func() bool { return strings.Contains(copyOf("(uid=dave)", "title"), "title: Diver") })
	mustDirgate(t, "", "user", "deactivate", "--data", data, "--org", "example", "--login", "dave")
	mustDirgate(t, "", "user", "delete", "--data", data, "--org", "example", "--login", "dave")
	eventually("dave gone", func() bool { return !strings.Contains(copyOf("(uid=dave)", "uid"), "dave") })
}
