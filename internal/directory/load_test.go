package directory_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// Load returns the users, profiles, custom attributes, hashes, timestamps,
// groups and memberships as they were written, and the same records as the
// single-record reads.
func TestLoadReturnsWhatWasWritten(t *testing.T) {
	d, _, c := newDir(t)
	ctx := context.Background()
	const ssha = "{SSHA}9CjnxV2o6vmRdbfBlGdxfuA7X0VzMDAwMDAwMQ=="
	in := []directory.ImportUser{
		{UserInput: directory.UserInput{Profile: directory.Profile{Login: "Zoë", Email: "zoe@example.com", FirstName: "Zoë",
			LastName: `O"Brien \ Jr.`, DisplayName: "Zoë O'Brien", NickName: "z", Title: "Engineer", Department: "R&D",
			Organization: "Acme", MobilePhone: "+1 555 0100", PrimaryPhone: "+1 555 0101",
			Custom: map[string]string{"costCenter": "cc-7 \"east\""}}, PasswordHash: ssha, Roles: []string{directory.RoleReadOnlyAdmin}}},
		{UserInput: directory.UserInput{Profile: directory.Profile{Login: "ann", Email: "ann@example.com", FirstName: "Ann", LastName: "Lee"},
			PasswordHash: ssha, Status: store.StatusSuspended}},
		{UserInput: directory.UserInput{Profile: directory.Profile{Login: "bob"}, Status: store.StatusStaged}},
	}
	groups := []directory.ImportGroup{
		{GroupInput: directory.GroupInput{Name: "Ops", Description: "on call"}, MemberLogins: []string{"bob", "Zoë", "ann"}},
		{GroupInput: directory.GroupInput{Name: "empty"}},
		{GroupInput: directory.GroupInput{Name: "admins"}, MemberLogins: []string{"zoë"}},
	}
	created := c.t
	if _, err := d.Import(ctx, "example", in, groups, nil); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(time.Hour + 123456789)
	if _, err := d.SetPassword(ctx, "example", "bob", []byte("a-Long-enough-passw0rd!")); err != nil {
		t.Fatal(err)
	}

	data, err := d.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(data.Orgs) != 1 {
		t.Fatalf("%d orgs", len(data.Orgs))
	}
	od := data.Orgs[0]
	var logins []string
	for _, u := range od.Users {
		logins = append(logins, u.Profile.Login)
	}
	if want := []string{"ann", "bob", "Zoë"}; !slices.Equal(logins, want) { // by LoginKey: "ann" < "bob" < "zoë"
		t.Fatalf("users %q, want %q", logins, want)
	}
	byLogin := map[string]*directory.User{}
	for _, u := range od.Users {
		byLogin[u.Profile.Login] = u
		one, err := d.User(ctx, "example", u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(one, u) {
			t.Errorf("Load's %s = %+v\nUser = %+v", u.Profile.Login, u, one)
		}
	}
	for _, x := range in {
		u := byLogin[x.Profile.Login]
		if u.OrgID != od.Org.ID || u.Type != store.TypePerson || !reflect.DeepEqual(u.Profile, x.Profile) {
			t.Errorf("%s: org %s, type %s, profile %+v; want %s, person, %+v", x.Profile.Login, u.OrgID, u.Type, u.Profile, od.Org.ID, x.Profile)
		}
		if !u.Created.Equal(created) || !u.LastUpdated.Equal(created) && x.Profile.Login != "bob" {
			t.Errorf("%s: created %v, last updated %v; want %v", x.Profile.Login, u.Created, u.LastUpdated, created)
		}
	}
	if u := byLogin["Zoë"]; u.PasswordHash != ssha || !slices.Equal(u.Roles, []string{directory.RoleReadOnlyAdmin}) ||
		u.Status != store.StatusActive || !u.Activated.Equal(created) {
		t.Errorf("Zoë: %+v", u)
	}
	if u := byLogin["ann"]; u.PasswordHash != ssha || u.Status != store.StatusSuspended || u.Roles != nil || u.Profile.Custom != nil {
		t.Errorf("ann: %+v", u)
	}
	if u := byLogin["bob"]; u.Status != store.StatusStaged || !u.Activated.IsZero() || !u.PasswordChanged.Equal(c.t) ||
		u.PasswordChanged.Location() != time.UTC || len(u.PasswordHash) < 10 || u.PasswordHash[:9] != "{ARGON2}$" {
		t.Errorf("bob: %+v", u)
	}

	var names []string
	gid := map[string]string{}
	for _, g := range od.Groups {
		names = append(names, g.Name)
		gid[g.Name] = g.ID
		if !g.Created.Equal(created) || g.OrgID != od.Org.ID {
			t.Errorf("group %+v", g)
		}
	}
	if want := []string{"admins", "empty", "Ops"}; !slices.Equal(names, want) {
		t.Errorf("groups %q, want %q", names, want)
	}
	var want []store.Membership
	for _, m := range [][2]string{{"Ops", "bob"}, {"Ops", "Zoë"}, {"Ops", "ann"}, {"admins", "Zoë"}} {
		want = append(want, store.Membership{GroupID: gid[m[0]], UserID: byLogin[m[1]].ID})
	}
	slices.SortFunc(want, func(a, b store.Membership) int {
		if a.GroupID != b.GroupID {
			return strings.Compare(a.GroupID, b.GroupID)
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	if !slices.Equal(od.Memberships, want) {
		t.Errorf("memberships %v, want %v", od.Memberships, want)
	}

	// LoadOrg and LoadDelta read the same records.
	od2, _, err := d.LoadOrg(ctx, od.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(od2.Users, od.Users) || !reflect.DeepEqual(od2.Groups, od.Groups) || !slices.Equal(od2.Memberships, od.Memberships) {
		t.Errorf("LoadOrg differs from Load")
	}
	delta, _, err := d.LoadDelta(ctx, od.Org.ID, []string{byLogin["Zoë"].ID}, []string{gid["Ops"]})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(delta.Users[byLogin["Zoë"].ID], byLogin["Zoë"]) {
		t.Errorf("LoadDelta's Zoë = %+v", delta.Users[byLogin["Zoë"].ID])
	}
	if !slices.Equal(delta.UserGroups[byLogin["Zoë"].ID], []string{min(gid["Ops"], gid["admins"]), max(gid["Ops"], gid["admins"])}) {
		t.Errorf("LoadDelta's UserGroups = %v", delta.UserGroups)
	}
}
