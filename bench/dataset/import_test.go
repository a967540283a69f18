package dataset

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/dirgate/dirgate/internal/dirldif"
)

// TestDirgateImportMapping runs dirgate's import mapping (what `dirgate
// import` does before writing): every user, the service account and every
// group with all its members must come through, nothing skipped but the
// three containers.
func TestDirgateImportMapping(t *testing.T) {
	s := New(200, 5, testBase)
	b, err := dirldif.Read(bytes.NewReader(ldifBytes(t, s, LDIFOptions{MemberOf: true, Service: true, DirgateService: true})), dirldif.Options{
		Hash: func([]byte) (string, error) { return "", errors.New("no cleartext password expected") },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Users) != s.N()+1 || len(b.Groups) != s.Groups() || len(b.Skipped) != 3 || len(b.Notes) != 0 {
		t.Fatalf("users %d groups %d skipped %v notes %v", len(b.Users), len(b.Groups), b.Skipped, b.Notes)
	}
	svc := b.Users[0]
	if svc.Profile.Login != ServiceLogin || !svc.ServiceAccount || !slices.Contains(svc.Roles, "READ_ONLY_ADMIN") || svc.PasswordHash != s.ServiceHash() {
		t.Errorf("service account mapped as %+v", svc)
	}
	for i, u := range b.Users[1:] {
		if u.Profile.Login != s.UID(i) || u.PasswordHash != s.Hash(i) || u.Profile.Email != s.Mail(i) {
			t.Fatalf("user %d mapped as %+v", i, u)
		}
	}
	for g, grp := range b.Groups {
		var want []string
		for _, u := range s.Members(g) {
			want = append(want, s.UID(u))
		}
		if grp.Name != s.GroupCN(g) || !slices.Equal(grp.MemberLogins, want) {
			t.Fatalf("group %d mapped as %+v", g, grp)
		}
	}
}
