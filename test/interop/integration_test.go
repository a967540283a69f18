package interop

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestIntegrationDryRunAgainstDirgate: the sync engine's dry run pointed
// at dirgate's own LDAP interface, with the settings an Immuta
// administrator enters for Okta's (uid, ou=users, groupOfUniqueNames and
// uniqueMember, the read-only bind account), lists exactly the org's users
// with their attributes and its groups with their members: what Immuta's
// LDAP IAM sync sees.
func TestIntegrationDryRunAgainstDirgate(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "", "group", "create", "--data", data, "--org", "example", "--name", "immuta_users")
	for _, u := range []string{"alice", "bob"} {
		mustDirgate(t, "", "group", "add-member", "--data", data, "--org", "example", "--group", "immuta_users", "--login", u)
	}
	mustDirgate(t, "", "init", "--data", data, "--org", "mirror") // the integration's own org
	s := startDirgate(t, data, "--no-demo")
	ca, err := os.ReadFile(s.caFile)
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]any{
		"urls": []string{s.ldapsURL, s.ldapURL}, "startTLS": true, "caCert": string(ca),
		"bindDN": bindDN, "userSearchBase": exUsers, "userAttribute": "uid",
		"profileSchema": map[string]string{"email": "mail", "firstName": "givenName", "lastName": "sn"},
		"paging":        true, "groupSearchBase": "ou=groups," + exBase, "groupSearchFilter": "(objectClass=groupOfUniqueNames)",
		"groupMemberAttribute": "uniqueMember",
	}
	raw, _ := json.Marshal(settings)
	file := filepath.Join(t.TempDir(), "okta.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	mustDirgate(t, bindPW+"\n", "integration", "create", "--data", data, "--org", "mirror", "--name", "Okta-style LDAP", "-f", file, "--password-stdin")
	if out := mustDirgate(t, "", "integration", "test-connection", "--data", data, "--org", "mirror", "--integration", "Okta-style LDAP"); !strings.Contains(out, "bind") {
		t.Fatalf("test-connection:\n%s", out)
	}
	var got struct {
		Users []struct {
			Login   string            `json:"login"`
			Profile map[string]string `json:"profile"`
		} `json:"users"`
		Groups []struct {
			Name    string   `json:"name"`
			Members []string `json:"members"`
		} `json:"groups"`
	}
	out := mustDirgate(t, "", "integration", "test-sync", "--data", data, "--org", "mirror", "--integration", "Okta-style LDAP", "--show-source")
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("--show-source: %v\n%s", err, out)
	}
	// What the org holds, from its own CLI.
	var users []struct {
		Profile struct {
			Login, Email, FirstName, LastName string
		} `json:"profile"`
	}
	if err := json.Unmarshal([]byte(mustDirgate(t, "", "user", "list", "--data", data, "--org", "example", "--output", "json")), &users); err != nil {
		t.Fatal(err)
	}
	want := map[string][3]string{}
	for _, u := range users {
		want[u.Profile.Login] = [3]string{u.Profile.Email, u.Profile.FirstName, u.Profile.LastName}
	}
	if len(got.Users) != len(want) {
		t.Fatalf("the dry run sees %d users, the org has %d:\n%s", len(got.Users), len(want), out)
	}
	for _, u := range got.Users {
		w, ok := want[u.Login]
		if !ok || [3]string{u.Profile["email"], u.Profile["firstName"], u.Profile["lastName"]} != w {
			t.Errorf("user %s as synced: %v, the org has %v (%v)", u.Login, u.Profile, w, ok)
		}
	}
	var groups []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(mustDirgate(t, "", "group", "list", "--data", data, "--org", "example", "--output", "json")), &groups); err != nil {
		t.Fatal(err)
	}
	var wantGroups, gotGroups []string
	for _, g := range groups {
		wantGroups = append(wantGroups, g.Name)
	}
	members := map[string][]string{}
	for _, g := range got.Groups {
		gotGroups = append(gotGroups, g.Name)
		members[g.Name] = g.Members
	}
	slices.Sort(wantGroups)
	slices.Sort(gotGroups)
	if !slices.Equal(gotGroups, wantGroups) {
		t.Errorf("groups: the dry run sees %v, the org has %v", gotGroups, wantGroups)
	}
	if m := strings.Join(members["immuta_users"], ","); m != "alice,bob" {
		t.Errorf("immuta_users members as synced: %s", m)
	}
	if m := strings.Join(members["eng"], ","); m != "alice" {
		t.Errorf("eng members as synced: %s", m)
	}
	// The dry run's counts say the same, and nothing is written.
	rep := mustDirgate(t, "", "integration", "test-sync", "--data", data, "--org", "mirror", "--integration", "Okta-style LDAP")
	if !strings.Contains(rep, "dry run (nothing written)") || !strings.Contains(rep, " created") {
		t.Errorf("test-sync:\n%s", rep)
	}
	if list := mustDirgate(t, "", "user", "list", "--data", data, "--org", "mirror", "--output", "json"); strings.Contains(list, "alice") {
		t.Errorf("the dry run wrote users:\n%s", list)
	}
	// A real run copies them.
	mustDirgate(t, "", "integration", "sync", "--data", data, "--org", "mirror", "--integration", "Okta-style LDAP")
	if list := mustDirgate(t, "", "user", "list", "--data", data, "--org", "mirror", "--output", "json"); !strings.Contains(list, `"alice"`) {
		t.Errorf("after sync the mirror org has:\n%s", list)
	}
	// Mapped fields are the integration's: the CLI refuses to change one,
	// naming the integration, and changes an unmapped one.
	r := dirgate(t, "", "user", "update", "--data", data, "--org", "mirror", "--login", "alice", "--set", "firstName=Alicia")
	if r.code == 0 || !strings.Contains(r.stderr, `directory integration "Okta-style LDAP"`) {
		t.Errorf("changing a mapped field with the CLI: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	mustDirgate(t, "", "user", "update", "--data", data, "--org", "mirror", "--login", "alice", "--set", "title=CTO")
	if out := mustDirgate(t, "", "user", "show", "--data", data, "--org", "mirror", "--login", "alice"); !strings.Contains(out, "CTO") {
		t.Errorf("alice after changing an unmapped field:\n%s", out)
	}
	// Make default: --default sets it, an update without the flag leaves
	// it, --default=false takes it away.
	isDefault := func() bool {
		var ins []struct {
			Default bool `json:"default"`
		}
		out := mustDirgate(t, "", "integration", "list", "--data", data, "--org", "mirror", "--output", "json")
		if err := json.Unmarshal([]byte(out), &ins); err != nil || len(ins) != 1 {
			t.Fatalf("integration list: %v\n%s", err, out)
		}
		return ins[0].Default
	}
	update := func(args ...string) {
		mustDirgate(t, "", append([]string{"integration", "update", "--data", data, "--org", "mirror", "--integration", "Okta-style LDAP",
			"--name", "Okta-style LDAP", "-f", file}, args...)...)
	}
	for _, step := range []struct {
		args []string
		want bool
	}{{[]string{"--default"}, true}, {nil, true}, {[]string{"--default=false"}, false}} {
		if update(step.args...); isDefault() != step.want {
			t.Errorf("after update %v the integration is the default: %v", step.args, !step.want)
		}
	}
}
