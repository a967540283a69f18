package interop

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/dirgate/dirgate/internal/totp"
)

// TestOktaSDK drives dirgate's REST API with Okta's own Go SDK
// (okta-sdk-golang v5), over HTTPS with dirgate's CA, as a script written
// for Okta would: users, paging with a filter, profile updates, the
// lifecycle, groups and their members, the system log.
//
// What the SDK cannot do against dirgate unaided: it keeps only the host
// name of its orgUrl (configuration.go: cfg.Host = purl.Hostname()), so an
// org URL with a port other than 443 loses the port; the test sets
// Configuration.Host to host:port after NewConfiguration.
func TestOktaSDK(t *testing.T) {
	requireLdapsearch(t)
	data := t.TempDir()
	setupExample(t, data)
	mustDirgate(t, "Sdk-admin-password-1\n", "user", "create", "--data", data, "--org", "example", "--login", "sdkadmin",
		"--email", "sdkadmin@example.com", "--first", "SDK", "--last", "Admin", "--role", "super_admin", "--password-stdin")
	s := startDirgate(t, data, "--no-demo")
	token := strings.TrimSpace(mustDirgate(t, "", "token", "create", "--data", data, "--org", "example", "--login", "sdkadmin", "--name", "okta-sdk"))

	httpClient, err := s.httpClient()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := okta.NewConfiguration(okta.WithOrgUrl(s.httpURL), okta.WithToken(token),
		okta.WithHttpClientPtr(httpClient), okta.WithCache(false), okta.WithRequestTimeout(60))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Host = strings.TrimPrefix(s.httpURL, "https://") // see above: the SDK drops the port
	client := okta.NewAPIClient(cfg)
	ctx := context.Background()

	// Create users: one with a password, activated; more to page through.
	newUser := func(login, dept string, activate bool) *okta.User {
		t.Helper()
		p := okta.NewUserProfile()
		p.SetLogin(login)
		p.SetEmail(login)
		p.SetFirstName("First " + login[:strings.IndexByte(login, '@')])
		p.SetLastName("SDK")
		p.SetDepartment(dept)
		body := okta.CreateUserRequest{Profile: *p,
			Credentials: &okta.UserCredentials{Password: &okta.PasswordCredential{Value: okta.PtrString("Sdk-user-password-1")}}}
		u, _, err := client.UserAPI.CreateUser(ctx).Body(body).Activate(activate).Execute()
		if err != nil {
			t.Fatalf("CreateUser %s: %v", login, sdkErr(err))
		}
		return u
	}
	first := newUser("sdk0@example.com", "Engineering", true)
	if first.GetStatus() != "ACTIVE" || first.GetId() == "" || first.Profile.GetLogin() != "sdk0@example.com" {
		t.Fatalf("created user = %+v", first)
	}
	if !first.Created.Before(time.Now().Add(time.Minute)) || !first.PasswordChanged.IsSet() {
		t.Errorf("created user's timestamps: created %v, passwordChanged %v", first.Created, first.PasswordChanged.Get())
	}
	eng := []string{first.GetId()}
	for i := 1; i <= 6; i++ {
		dept := "Engineering"
		if i%3 == 0 {
			dept = "Sales"
		}
		u := newUser(fmt.Sprintf("sdk%d@example.com", i), dept, true)
		if dept == "Engineering" {
			eng = append(eng, u.GetId())
		}
	}
	staged := newUser("staged@example.com", "Engineering", false)
	if staged.GetStatus() != "STAGED" {
		t.Errorf("activate=false: status %s, want STAGED", staged.GetStatus())
	}

	t.Run("get by id and by login", func(t *testing.T) {
		for _, ref := range []string{first.GetId(), "sdk0@example.com"} {
			u, _, err := client.UserAPI.GetUser(ctx, ref).Execute()
			if err != nil || u.GetId() != first.GetId() {
				t.Errorf("GetUser(%s) = %v, %v", ref, u.GetId(), sdkErr(err))
			}
		}
	})

	t.Run("list with a filter, two per page", func(t *testing.T) {
		users, resp, err := client.UserAPI.ListUsers(ctx).
			Filter(`status eq "ACTIVE" and profile.department eq "Engineering"`).Limit(2).Execute()
		if err != nil {
			t.Fatalf("ListUsers: %v", sdkErr(err))
		}
		var got []string
		pages := 1
		for {
			for _, u := range users {
				got = append(got, u.GetId())
			}
			if !resp.HasNextPage() {
				break
			}
			var next []okta.User
			if resp, err = resp.Next(&next); err != nil {
				t.Fatalf("page %d: %v", pages+1, sdkErr(err))
			}
			users = next
			pages++
		}
		slices.Sort(got)
		want := slices.Clone(eng)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("filtered users = %v, want %v", got, want)
		}
		if pages < 3 {
			t.Errorf("%d users in %d pages of 2", len(got), pages)
		}
	})

	t.Run("search and q", func(t *testing.T) {
		users, _, err := client.UserAPI.ListUsers(ctx).Search(`profile.department eq "Sales" and profile.login sw "sdk"`).Execute()
		if err != nil || len(users) != 2 {
			t.Errorf("search: %d users, %v; want 2", len(users), sdkErr(err))
		}
		users, _, err = client.UserAPI.ListUsers(ctx).Q("staged").Execute()
		if err != nil || len(users) != 1 || users[0].GetId() != staged.GetId() {
			t.Errorf("q=staged: %d users, %v", len(users), sdkErr(err))
		}
	})

	t.Run("partial profile update, visible over LDAP", func(t *testing.T) {
		p := okta.NewUserProfile()
		p.SetTitle("Staff Engineer")
		u, _, err := client.UserAPI.UpdateUser(ctx, first.GetId()).User(okta.UpdateUserRequest{Profile: p}).Execute()
		if err != nil {
			t.Fatalf("UpdateUser: %v", sdkErr(err))
		}
		if u.Profile.GetTitle() != "Staff Engineer" || u.Profile.GetDepartment() != "Engineering" || u.Profile.GetFirstName() != "First sdk0" {
			t.Errorf("after a partial update: %+v", u.Profile)
		}
		start := time.Now()
		eventually(t, "the new title over LDAP", func() error {
			r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(uid=sdk0@example.com)", "title")...)
			if got := attrs(r.stdout, "title"); len(got) != 1 || got[0] != "Staff Engineer" {
				return fmt.Errorf("title = %v (%s)", got, r.stderr)
			}
			return nil
		})
		t.Logf("the API's profile change was visible over LDAP after %v", time.Since(start).Round(time.Millisecond))
	})

	t.Run("lifecycle", func(t *testing.T) {
		id := first.GetId()
		status := func() string {
			u, _, err := client.UserAPI.GetUser(ctx, id).Execute()
			if err != nil {
				t.Fatalf("GetUser: %v", sdkErr(err))
			}
			return u.GetStatus()
		}
		steps := []struct {
			name string
			do   func() error
			want string
		}{
			{"suspend", func() error { _, err := client.UserAPI.SuspendUser(ctx, id).Execute(); return err }, "SUSPENDED"},
			{"unsuspend", func() error { _, err := client.UserAPI.UnsuspendUser(ctx, id).Execute(); return err }, "ACTIVE"},
			{"expire password", func() error { _, _, err := client.UserAPI.ExpirePassword(ctx, id).Execute(); return err }, "PASSWORD_EXPIRED"},
			{"deactivate", func() error { _, err := client.UserAPI.DeactivateUser(ctx, id).Execute(); return err }, "DEPROVISIONED"},
			{"activate", func() error {
				_, _, err := client.UserAPI.ActivateUser(ctx, id).SendEmail(false).Execute()
				return err
			}, "ACTIVE"},
		}
		for _, st := range steps {
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, sdkErr(err))
			}
			if got := status(); got != st.want {
				t.Fatalf("after %s: status %s, want %s", st.name, got, st.want)
			}
		}
		// An illegal transition is refused with Okta's validation error.
		_, err := client.UserAPI.UnsuspendUser(ctx, id).Execute()
		if e := sdkErr(err); e == nil || !strings.Contains(e.Error(), "E0000001") {
			t.Errorf("unsuspending an ACTIVE user: %v, want E0000001", e)
		}
		// Delete: the first call deactivates, the second deletes.
		for range 2 {
			if _, err := client.UserAPI.DeleteUser(ctx, staged.GetId()).Execute(); err != nil {
				t.Fatalf("DeleteUser: %v", sdkErr(err))
			}
		}
		if _, _, err := client.UserAPI.GetUser(ctx, staged.GetId()).Execute(); sdkErr(err) == nil || !strings.Contains(sdkErr(err).Error(), "E0000007") {
			t.Errorf("GetUser after delete: %v, want E0000007", sdkErr(err))
		}
	})

	t.Run("groups and members", func(t *testing.T) {
		g, _, err := client.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{
			Name: okta.PtrString("sdk-team"), Description: okta.PtrString("made by the Okta SDK")}}).Execute()
		if err != nil {
			t.Fatalf("CreateGroup: %v", sdkErr(err))
		}
		gid := g.GetId()
		for _, id := range eng[:3] {
			if _, err := client.GroupAPI.AssignUserToGroup(ctx, gid, id).Execute(); err != nil {
				t.Fatalf("AssignUserToGroup: %v", sdkErr(err))
			}
		}
		if _, err := client.GroupAPI.UnassignUserFromGroup(ctx, gid, eng[1]).Execute(); err != nil {
			t.Fatalf("UnassignUserFromGroup: %v", sdkErr(err))
		}
		members, _, err := client.GroupAPI.ListGroupUsers(ctx, gid).Execute()
		if err != nil {
			t.Fatalf("ListGroupUsers: %v", sdkErr(err))
		}
		var got []string
		for _, m := range members {
			got = append(got, m.GetId())
		}
		slices.Sort(got)
		want := []string{eng[0], eng[2]}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("members = %v, want %v", got, want)
		}
		groups, _, err := client.GroupAPI.ListGroups(ctx).Q("sdk").Execute()
		if err != nil || len(groups) != 1 || groups[0].GetId() != gid {
			t.Errorf("ListGroups q=sdk: %d, %v", len(groups), sdkErr(err))
		}
		ug, _, err := client.UserAPI.ListUserGroups(ctx, eng[0]).Execute()
		if err != nil || !slices.ContainsFunc(ug, func(x okta.Group) bool { return x.GetId() == gid }) {
			t.Errorf("ListUserGroups: %v, %v", ug, sdkErr(err))
		}
		eventually(t, "the group over LDAP", func() error {
			r := s.ldapsearch(t, asBind(s.ldapsURL, "-b", exBase, "(cn=sdk-team)", "uniqueMember")...)
			if got := attrs(r.stdout, "uniqueMember"); len(got) != 2 {
				return fmt.Errorf("uniqueMember = %v (%s)", got, r.stderr)
			}
			return nil
		})
	})

	t.Run("TOTP factor: enrol, activate, list, delete", func(t *testing.T) {
		uid := eng[2]
		enrolled, _, err := client.UserFactorAPI.EnrollFactor(ctx, uid).Body(okta.ListFactors200ResponseInner{
			UserFactorTOTP: &okta.UserFactorTOTP{FactorType: "token:software:totp", Provider: okta.PtrString("GOOGLE")}}).Execute()
		if err != nil {
			t.Fatalf("EnrollFactor: %v", sdkErr(err))
		}
		f := enrolled.UserFactorTOTP
		if f == nil || f.GetStatus() != "PENDING_ACTIVATION" {
			t.Fatalf("enrolled factor = %+v", enrolled)
		}
		activation, _ := f.Embedded["activation"]
		secret, _ := activation["sharedSecret"].(string)
		key, err := totp.DecodeSecret(secret)
		if err != nil {
			t.Fatalf("sharedSecret %q: %v", secret, err)
		}
		activated, _, err := client.UserFactorAPI.ActivateFactor(ctx, uid, f.GetId()).
			Body(map[string]any{"passCode": totp.Code(key, time.Now())}).Execute()
		if err != nil || activated.UserFactorTOTP == nil || activated.UserFactorTOTP.GetStatus() != "ACTIVE" {
			t.Fatalf("ActivateFactor: %+v, %v", activated, sdkErr(err))
		}
		list, _, err := client.UserFactorAPI.ListFactors(ctx, uid).Execute()
		if err != nil || len(list) != 1 || list[0].UserFactorTOTP == nil || list[0].UserFactorTOTP.GetId() != f.GetId() {
			t.Fatalf("ListFactors: %+v, %v", list, sdkErr(err))
		}
		if _, err := client.UserFactorAPI.UnenrollFactor(ctx, uid, f.GetId()).Execute(); err != nil {
			t.Fatalf("UnenrollFactor: %v", sdkErr(err))
		}
		if list, _, err = client.UserFactorAPI.ListFactors(ctx, uid).Execute(); err != nil || len(list) != 0 {
			t.Errorf("ListFactors after unenrolling: %d, %v", len(list), sdkErr(err))
		}
	})

	t.Run("system log", func(t *testing.T) {
		eventually(t, "the SDK's writes in the system log", func() error {
			evs, _, err := client.SystemLogAPI.ListLogEvents(ctx).Filter(`eventType eq "user.lifecycle.suspend"`).Execute()
			if err != nil {
				return sdkErr(err)
			}
			for _, e := range evs {
				if e.Actor != nil && e.Actor.GetAlternateId() == "sdkadmin" {
					return nil
				}
			}
			return fmt.Errorf("%d suspend events, none by sdkadmin", len(evs))
		})
		evs, resp, err := client.SystemLogAPI.ListLogEvents(ctx).Since(time.Now().Add(-time.Hour)).Limit(5).Execute()
		if err != nil || len(evs) != 5 || !resp.HasNextPage() {
			t.Fatalf("ListLogEvents limit 5: %d events, next %v, %v", len(evs), resp != nil && resp.HasNextPage(), sdkErr(err))
		}
		var more []okta.LogEvent
		if _, err := resp.Next(&more); err != nil || len(more) == 0 || more[0].GetUuid() == evs[4].GetUuid() {
			t.Errorf("next page of the log: %d events, %v", len(more), sdkErr(err))
		}
	})
}

// sdkErr adds the Okta error body the SDK holds to its error.
func sdkErr(err error) error {
	if err == nil {
		return nil
	}
	if ge, ok := err.(*okta.GenericOpenAPIError); ok {
		return fmt.Errorf("%v: %s", err, ge.Body())
	}
	return err
}
