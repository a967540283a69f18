package directory_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/store/sqlite"
)

func srcUser(ext, login, email, first string) directory.SyncUser {
	return directory.SyncUser{ExternalID: ext, Login: login, Profile: map[string]string{"email": email, "firstName": first, "lastName": "Src"}}
}

func members(t *testing.T, d *directory.Directory, group string) []string {
	t.Helper()
	ms, err := d.GroupMembers(context.Background(), "example", group)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, u := range ms {
		out = append(out, u.Profile.Login)
	}
	slices.Sort(out)
	return out
}

func status(t *testing.T, d *directory.Directory, login string) string {
	t.Helper()
	u, err := d.User(context.Background(), "example", login)
	if err != nil {
		t.Fatalf("%s: %v", login, err)
	}
	return u.Status
}

// TestSync: a run creates the source's users (with a duplicate email left
// empty and a login a local user has skipped), links a local group of the
// mapped name and creates the others, adds default groups; a second run
// changes nothing; changes in the source arrive, mapped attributes are
// read-only outside the sync, removed users are deactivated (or suspended,
// or kept), reappearing ones reactivated, and local members stay.
func TestSync(t *testing.T) {
	e := newFactorEnv(t)
	d, ctx := e.d, context.Background()
	mustUser(t, d, "bob", "password-bob", "") // local, email bob@example.com
	for _, g := range []string{"immuta_users", "everyone-ldap"} {
		if _, err := d.CreateGroup(ctx, "example", directory.GroupInput{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.AddMember(ctx, "example", "immuta_users", "alice"); err != nil { // a local member
		t.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: "Corp LDAP", Kind: directory.KindLDAP,
		Settings: []byte(`{}`), Owned: []string{"email", "firstName", "lastName", "ldap-employeeNumber"}, Secret: []byte("bind-pw")})
	if err != nil {
		t.Fatal(err)
	}
	if pw, err := d.IntegrationSecret(in); err != nil || string(pw) != "bind-pw" {
		t.Fatalf("the sealed secret: %q %v", pw, err)
	}
	src := &directory.SyncSource{Full: true, GroupSync: true,
		Users: []directory.SyncUser{
			srcUser("e1", "carol", "carol@example.com", "Carol"),
			srcUser("e2", "dan", "bob@example.com", "Dan"), // bob's email
			srcUser("e3", "erin", "erin@example.com", "Erin"),
			srcUser("e4", "Alice", "alice2@example.com", "Alice"), // a local login
		},
		Groups: []directory.SyncGroup{
			{ExternalID: "g1", Name: "immuta_users", Members: []string{"e1", "e2"}},
			{ExternalID: "g2", Name: "staff", Description: "All staff", Members: []string{"e1", "e2", "e3"}},
		}}
	src.Users[0].Profile["ldap-employeeNumber"] = "1001"
	opt := directory.SyncOptions{DefaultGroups: []string{"everyone-ldap"}}

	dry, err := d.Sync(ctx, "example", in.ID, src, directory.SyncOptions{DefaultGroups: opt.DefaultGroups, DryRun: true})
	if err != nil || dry.Created != 3 || dry.GroupsCreated != 1 {
		t.Fatalf("dry run: %+v %v", dry, err)
	}
	if _, err := d.User(ctx, "example", "carol"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("a dry run created carol: %v", err)
	}
	rep, err := d.Sync(ctx, "example", in.ID, src, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Created != 3 || rep.GroupsCreated != 1 || len(rep.DuplicateEmails) != 1 || rep.DuplicateEmails[0] != "dan" ||
		len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "taken by a local user") {
		t.Fatalf("first run: %+v", rep)
	}
	if u, _ := d.User(ctx, "example", "dan"); u.Profile.Email != "" || u.Status != directory.StatusActive {
		t.Errorf("dan: %+v", u)
	}
	if u, _ := d.User(ctx, "example", "carol"); u.Profile.Custom["ldap-employeeNumber"] != "1001" || u.Profile.FirstName != "Carol" {
		t.Errorf("carol: %+v", u.Profile)
	}
	if got := members(t, d, "immuta_users"); strings.Join(got, ",") != "alice,carol,dan" {
		t.Errorf("immuta_users: %v", got)
	}
	if got := members(t, d, "staff"); strings.Join(got, ",") != "carol,dan,erin" {
		t.Errorf("staff: %v", got)
	}
	if got := members(t, d, "everyone-ldap"); strings.Join(got, ",") != "carol,dan,erin" {
		t.Errorf("everyone-ldap: %v", got)
	}
	// Nothing changed: nothing to do.
	again, err := d.Sync(ctx, "example", in.ID, src, opt)
	if err != nil || again.Created+again.Updated+again.MembersAdded+again.MembersRemoved+again.GroupsCreated != 0 || again.Unchanged != 3 {
		t.Fatalf("second run: %+v %v", again, err)
	}
	// Mapped fields are the integration's.
	_, err = d.PatchProfile(ctx, "example", "carol", map[string]string{"firstName": "Caroline"})
	var de *directory.Error
	if !errors.As(err, &de) || de.Field != "profile.firstName" || !strings.Contains(de.Message, `"Corp LDAP"`) {
		t.Fatalf("editing a mapped field: %v", err)
	}
	if _, err := d.PatchProfile(ctx, "example", "carol", map[string]string{"title": "CTO"}); err != nil {
		t.Fatalf("editing a field the integration does not map: %v", err)
	}
	// Her self-service leaves out the mapped names (the org's default
	// self-service has them) and keeps the phones.
	carol, _ := d.User(ctx, "example", "carol")
	if a, err := d.Account(ctx, carol.OrgID, carol.ID); err != nil || a.Source == nil || a.Source.Name != "Corp LDAP" ||
		slices.Contains(a.Editable, "firstName") || !slices.Contains(a.Editable, "mobilePhone") {
		t.Fatalf("carol's self-service: %+v %v", a, err)
	}
	// The source changes: carol renamed, erin leaves, dan leaves staff.
	src.Users[0].Profile["firstName"] = "Caroline"
	src.Users = slices.Delete(src.Users, 2, 3) // erin
	src.Groups[1].Members = []string{"e1"}
	rep, err = d.Sync(ctx, "example", in.ID, src, opt)
	if err != nil || rep.Updated != 1 || rep.Deactivated != 1 || rep.MembersRemoved != 2 {
		t.Fatalf("third run: %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", "carol"); u.Profile.FirstName != "Caroline" || u.Profile.Title != "CTO" {
		t.Errorf("carol after the change: %+v", u.Profile)
	}
	if s := status(t, d, "erin"); s != directory.StatusDeprovisioned {
		t.Errorf("erin is %s", s)
	}
	if got := members(t, d, "staff"); strings.Join(got, ",") != "carol" {
		t.Errorf("staff: %v", got)
	}
	// erin comes back; an incremental (not full) run removes nobody; with
	// removal "suspend" a full run suspends, with "keep" nobody is touched.
	src.Users = append(src.Users, srcUser("e3", "erin", "erin@example.com", "Erin"))
	if rep, err = d.Sync(ctx, "example", in.ID, src, opt); err != nil || rep.Reactivated != 1 || status(t, d, "erin") != directory.StatusActive {
		t.Fatalf("erin back: %+v %v", rep, err)
	}
	partial := &directory.SyncSource{Users: src.Users[:1]}
	if rep, err = d.Sync(ctx, "example", in.ID, partial, opt); err != nil || rep.Deactivated+rep.Suspended != 0 {
		t.Fatalf("an incremental run: %+v %v", rep, err)
	}
	full := &directory.SyncSource{Full: true, Users: src.Users[:1]}
	if rep, err = d.Sync(ctx, "example", in.ID, full, directory.SyncOptions{Removal: directory.RemovalKeep}); err != nil || rep.Deactivated+rep.Suspended != 0 {
		t.Fatalf("removal keep: %+v %v", rep, err)
	}
	if rep, err = d.Sync(ctx, "example", in.ID, full, directory.SyncOptions{Removal: directory.RemovalSuspend}); err != nil || rep.Suspended != 2 {
		t.Fatalf("removal suspend: %+v %v", rep, err)
	}
	if s := status(t, d, "dan"); s != directory.StatusSuspended {
		t.Errorf("dan is %s", s)
	}
	if s := status(t, d, "alice"); s != directory.StatusActive {
		t.Errorf("the local alice is %s", s)
	}
	// Manual approval: new users wait STAGED.
	src.Users = append(src.Users, srcUser("e5", "fay", "fay@example.com", "Fay"))
	if _, err = d.Sync(ctx, "example", in.ID, src, directory.SyncOptions{ManualApproval: true, Removal: directory.RemovalSuspend}); err != nil {
		t.Fatal(err)
	}
	if s := status(t, d, "fay"); s != directory.StatusStaged {
		t.Errorf("fay under manual approval is %s", s)
	}
	if s := status(t, d, "dan"); s != directory.StatusActive {
		t.Errorf("dan, back under removal suspend, is %s", s)
	}
	// A default group that does not exist is refused before anything.
	if _, err := d.Sync(ctx, "example", in.ID, src, directory.SyncOptions{DefaultGroups: []string{"nope"}}); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("a missing default group: %v", err)
	}
	// Deleting the integration leaves its users, now local and editable.
	if err := d.DeleteIntegration(ctx, "example", "corp ldap"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.PatchProfile(ctx, "example", "carol", map[string]string{"firstName": "C"}); err != nil {
		t.Fatalf("carol after her integration is gone: %v", err)
	}
}

// TestSyncMigrateUsers: a run with Adopt takes over matching local users
// (by login) or another integration's (by email) instead of skipping
// them; after that their mapped fields are the new integration's.
func TestSyncMigrateUsers(t *testing.T) {
	e := newFactorEnv(t)
	d, ctx := e.d, context.Background()
	mustUser(t, d, "bob", "password-bob", "")
	newIntegration := func(name string) *directory.Integration {
		in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: name, Kind: directory.KindLDAP,
			Settings: []byte(`{}`), Owned: []string{"email", "firstName"}})
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	old, hr := newIntegration("Old LDAP"), newIntegration("HR")
	if _, err := d.Sync(ctx, "example", old.ID, &directory.SyncSource{Full: true, Users: []directory.SyncUser{srcUser("o1", "carol", "carol@example.com", "Carol")}}, directory.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	src := &directory.SyncSource{Full: true, Users: []directory.SyncUser{
		srcUser("h1", "bob", "bob@example.com", "Robert"),
		srcUser("h2", "caroline", "carol@example.com", "Caroline"), // carol, by email
	}}
	// Without Adopt, both are skipped.
	rep, err := d.Sync(ctx, "example", hr.ID, src, directory.SyncOptions{DryRun: true})
	if err != nil || len(rep.Skipped) != 1 || rep.Created != 1 {
		t.Fatalf("without adopt: %+v %v", rep, err) // bob skipped; caroline would be created (her email a duplicate)
	}
	onlyBob := &directory.SyncSource{Users: src.Users[:1]} // not full: carol's turn comes next
	if _, err := d.Sync(ctx, "example", hr.ID, onlyBob, directory.SyncOptions{Adopt: "local"}); err != nil {
		t.Fatal(err)
	}
	if u, _ := d.User(ctx, "example", "bob"); u.Profile.FirstName != "Robert" {
		t.Errorf("bob adopted: %+v", u.Profile)
	}
	rep, err = d.Sync(ctx, "example", hr.ID, src, directory.SyncOptions{Adopt: "Old LDAP", AdoptBy: "email"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := d.User(ctx, "example", "caroline")
	if u == nil || u.Profile.FirstName != "Caroline" {
		t.Fatalf("carol adopted by email and renamed: %+v, report %+v", u, rep)
	}
	// The old integration no longer has her: a full run of it removes no one it still links.
	rep, err = d.Sync(ctx, "example", old.ID, &directory.SyncSource{Full: true}, directory.SyncOptions{})
	if err != nil || rep.Deactivated != 0 {
		t.Fatalf("the old integration's run after the migration: %+v %v", rep, err)
	}
	if _, err := d.Sync(ctx, "example", hr.ID, src, directory.SyncOptions{Adopt: "HR"}); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("adopting from itself: %v", err)
	}
	// The org's default directory owns a person who is in several sources:
	// "Old LDAP" made the default takes bob over from HR by login, and
	// HR's next run skips him, naming the owner.
	yes, no := true, false
	if _, err := d.UpdateIntegration(ctx, "example", old.ID, directory.IntegrationInput{Name: old.Name, Kind: directory.KindLDAP,
		Settings: []byte(`{}`), Owned: []string{"email", "firstName"}, Default: &yes}); err != nil {
		t.Fatal(err)
	}
	bobAtOld := &directory.SyncSource{Users: []directory.SyncUser{srcUser("o2", "bob", "bob@example.com", "Bobby")}}
	if rep, err = d.Sync(ctx, "example", old.ID, bobAtOld, directory.SyncOptions{}); err != nil || rep.Adopted != 1 {
		t.Fatalf("the default directory's run: %+v %v", rep, err)
	}
	if u, _ := d.User(ctx, "example", "bob"); u.Profile.FirstName != "Bobby" {
		t.Errorf("bob under the default directory: %+v", u.Profile)
	}
	rep, err = d.Sync(ctx, "example", hr.ID, src, directory.SyncOptions{})
	if err != nil || rep.Deactivated != 0 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, `"Old LDAP"`) {
		t.Fatalf("HR's run after the default took bob: %+v %v", rep, err)
	}
	// Not the default any more (an update without Default leaves it).
	if _, err := d.UpdateIntegration(ctx, "example", old.ID, directory.IntegrationInput{Name: old.Name, Kind: directory.KindLDAP, Settings: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if in, _ := d.Integration(ctx, "example", old.ID); !in.Default {
		t.Errorf("an update without Default changed it")
	}
	if _, err := d.UpdateIntegration(ctx, "example", old.ID, directory.IntegrationInput{Name: old.Name, Kind: directory.KindLDAP, Settings: []byte(`{}`), Default: &no}); err != nil {
		t.Fatal(err)
	}
	if in, _ := d.Integration(ctx, "example", old.ID); in.Default {
		t.Errorf("Default false left it the default")
	}
}

// failingStore fails its Update calls from the failAt'th on (a process
// killed in the middle of a run: the batches before it are committed).
type failingStore struct {
	store.Store
	calls, failAt int
}

func (f *failingStore) Update(ctx context.Context, fn func(store.Tx) error) error {
	f.calls++
	if f.failAt > 0 && f.calls >= f.failAt {
		return errors.New("killed")
	}
	return f.Store.Update(ctx, fn)
}

// TestSyncResumes: a run that stops after some of its batches committed
// leaves those changes, and the next run does the rest, each change once.
func TestSyncResumes(t *testing.T) {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "dirgate.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fs := &failingStore{Store: st}
	d, err := directory.New(directory.Config{Store: fs, Password: cheap, LoginFlushInterval: time.Hour, Sleep: noSleep})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.CreateOrg(ctx, directory.OrgInput{Name: "example"}); err != nil {
		t.Fatal(err)
	}
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: "src", Kind: directory.KindLDAP, Owned: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	src := &directory.SyncSource{Full: true}
	for i := range 1200 {
		src.Users = append(src.Users, srcUser(fmt.Sprintf("e%04d", i), fmt.Sprintf("user%04d", i), fmt.Sprintf("u%d@example.com", i), "U"))
	}
	fs.calls, fs.failAt = 0, 2 // the first batch of 500 commits, the second is killed
	if _, err := d.Sync(ctx, "example", in.ID, src, directory.SyncOptions{}); err == nil {
		t.Fatal("the killed run reported no error")
	}
	if us, _ := d.Users(ctx, "example"); len(us) != 500 {
		t.Fatalf("after the killed run: %d users, want the first batch's 500", len(us))
	}
	fs.failAt = 0
	rep, err := d.Sync(ctx, "example", in.ID, src, directory.SyncOptions{})
	if err != nil || rep.Created != 700 || rep.Unchanged != 500 {
		t.Fatalf("the next run: %+v %v", rep, err)
	}
	if us, _ := d.Users(ctx, "example"); len(us) != 1200 {
		t.Fatalf("%d users, want 1200", len(us))
	}
}

// TestRunLease: one holder at a time; the holder renews its lease, and a
// lease that expired is taken by another, after which the first cannot
// renew it.
func TestRunLease(t *testing.T) {
	e := newFactorEnv(t)
	d, ctx := e.d, context.Background()
	in, err := d.CreateIntegration(ctx, "example", directory.IntegrationInput{Name: "src", Kind: directory.KindLDAP})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.BeginRun(ctx, in.ID, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := d.BeginRun(ctx, in.ID, "b", time.Hour); !errors.Is(err, directory.ErrRunning) {
		t.Fatalf("b while a runs: %v", err)
	}
	e.c.t = e.c.t.Add(50 * time.Minute)
	if err := d.RenewRun(ctx, in.ID, "a", time.Hour); err != nil {
		t.Fatal(err)
	}
	e.c.t = e.c.t.Add(50 * time.Minute) // 100 min after a began, 50 after it renewed
	if err := d.BeginRun(ctx, in.ID, "b", time.Hour); !errors.Is(err, directory.ErrRunning) {
		t.Fatalf("b after a renewed: %v", err)
	}
	e.c.t = e.c.t.Add(11 * time.Minute) // a's lease expired
	if err := d.BeginRun(ctx, in.ID, "b", time.Hour); err != nil {
		t.Fatalf("b after a's lease expired: %v", err)
	}
	if err := d.RenewRun(ctx, in.ID, "a", time.Hour); !errors.Is(err, directory.ErrRunning) {
		t.Fatalf("a renewing a lost lease: %v", err)
	}
	if err := d.EndRun(ctx, in.ID, "b", nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	if st := directory.StateOf(mustIntegration(t, d, in.ID)); st.Holder != "" {
		t.Fatalf("after EndRun: %+v", st)
	}
}

func mustIntegration(t *testing.T, d *directory.Directory, id string) *directory.Integration {
	t.Helper()
	in, err := d.Integration(context.Background(), "example", id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}
