package sqlite_test

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dirgate/dirgate/internal/store"
)

// Users are read as one JSON array a row (rowjson.go): every field comes
// back byte for byte, whatever it holds, through User, UserByLogin and
// Users alike.
func TestUserFieldsRoundTrip(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	o := &store.Org{ID: "00o00000000000000001", Name: "acme", Suffix: "dc=okta,dc=com"}
	texts := []string{"", `"quoted"`, `back\slash`, "ctl\x00\x01\x1f\x7f", "\b\f\n\r\t", "é日本🎉\u2028", "bad\xff\xfeutf8",
		`{"json":"text"}`, `\u0041`, "'", strings.Repeat("long ", 2000)}
	times := []time.Time{{}, time.Unix(0, 1).UTC(), time.Unix(0, -1).UTC(), time.Unix(0, math.MaxInt64).UTC(),
		time.Unix(0, math.MinInt64+1).UTC(), time.Date(2025, 12, 2, 0, 26, 1, 123456789, time.UTC)}
	var users []*store.User
	for i, x := range texts {
		tm := func(k int) time.Time { return times[(i+k)%len(times)] }
		u := &store.User{
			ID: fmt.Sprintf("00u%017d", i), OrgID: o.ID, Status: store.StatusActive, Type: store.TypePerson,
			LoginKey: fmt.Sprintf("login%02d%s", i, x),
			Profile: store.Profile{Login: "Login" + x, Email: x + "@example.com", FirstName: x, LastName: x + x,
				DisplayName: x, NickName: x, Title: x, Department: x, Organization: x, MobilePhone: x, PrimaryPhone: x},
			PasswordHash: "{SSHA}" + x,
			Created:      tm(0), Activated: tm(1), StatusChanged: tm(2), LastLogin: tm(3), LastUpdated: tm(4),
			PasswordChanged: tm(5), LastFailedLogin: tm(6), FailedLogins: i * 1000,
		}
		// The lists and maps are JSON, which cannot hold invalid UTF-8
		// (json.Marshal writes U+FFFD instead).
		if i%2 == 0 && utf8.ValidString(x) {
			u.Profile.Custom = map[string]string{"attr" + x: x, "other": "v"}
			u.Roles = []string{"READ_ONLY_ADMIN", x}
			u.PasswordHistory = []string{"{SSHA}old" + x, "{SSHA}older"}
		}
		users = append(users, u)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateOrg(o); err != nil {
			return err
		}
		for _, u := range users {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(r store.Reader) error {
		all, err := r.Users(o.ID)
		if err != nil {
			return err
		}
		if len(all) != len(users) {
			t.Fatalf("Users: %d, want %d", len(all), len(users))
		}
		want := slices.Clone(users)
		slices.SortFunc(want, func(a, b *store.User) int { return strings.Compare(a.LoginKey, b.LoginKey) })
		for i, u := range want {
			if !reflect.DeepEqual(all[i], u) {
				t.Errorf("Users[%d] = %+v\nwant %+v", i, all[i], u)
			}
			got, err := r.User(u.ID)
			if err != nil || !reflect.DeepEqual(got, u) {
				t.Errorf("User(%s) = %+v, %v\nwant %+v", u.ID, got, err, u)
			}
			got, err = r.UserByLogin(o.ID, u.LoginKey)
			if err != nil || !reflect.DeepEqual(got, u) {
				t.Errorf("UserByLogin(%q) = %+v, %v\nwant %+v", u.LoginKey, got, err, u)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Memberships reads a row per group; groups without members, and other
// orgs' groups, add none.
func TestMembershipsOfManyGroups(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	orgs := []*store.Org{{ID: "00o00000000000000001", Name: "acme", Suffix: "dc=okta,dc=com"},
		{ID: "00o00000000000000002", Name: "beta", Suffix: "dc=okta,dc=com"}}
	var want []store.Membership
	err := s.Update(ctx, func(tx store.Tx) error {
		for oi, o := range orgs {
			if err := tx.CreateOrg(o); err != nil {
				return err
			}
			for i := range 30 {
				u := &store.User{ID: fmt.Sprintf("00u%d%016d", oi, i), OrgID: o.ID, Status: store.StatusActive,
					Type: store.TypePerson, LoginKey: fmt.Sprint(i), Profile: store.Profile{Login: fmt.Sprint(i)}}
				if err := tx.CreateUser(u); err != nil {
					return err
				}
			}
			for g := range 10 {
				gid := fmt.Sprintf("00g%d%016d", oi, g)
				if err := tx.CreateGroup(&store.Group{ID: gid, OrgID: o.ID, NameKey: fmt.Sprint(g), Name: fmt.Sprint(g)}); err != nil {
					return err
				}
				// Group g has the users i with i%(g+1) == 0, but group 4
				// none; added in descending order.
				for i := 29; i >= 0 && g != 4; i-- {
					if i%(g+1) != 0 {
						continue
					}
					if _, err := tx.AddMember(gid, fmt.Sprintf("00u%d%016d", oi, i)); err != nil {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for g := range 10 {
		for i := 0; i < 30 && g != 4; i++ {
			if i%(g+1) == 0 {
				want = append(want, store.Membership{GroupID: fmt.Sprintf("00g0%016d", g), UserID: fmt.Sprintf("00u0%016d", i)})
			}
		}
	}
	err = s.View(ctx, func(r store.Reader) error {
		got, err := r.Memberships(orgs[0].ID)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			t.Errorf("Memberships =\n%v\nwant\n%v", got, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Users costs about two allocations a user (the driver's copy of the row
// and its boxing into a driver.Value), however many fields are set; a
// column a field cost some 37.
func TestUsersAllocs(t *testing.T) {
	s := openAt(t, tempPath(t))
	defer s.Close()
	o := &store.Org{ID: "00o00000000000000001", Name: "acme", Suffix: "dc=okta,dc=com"}
	const n = 1000
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateOrg(o); err != nil {
			return err
		}
		now := time.Now()
		for i := range n {
			login := fmt.Sprintf("user%04d", i)
			u := &store.User{ID: fmt.Sprintf("00u%017d", i), OrgID: o.ID, Status: store.StatusActive, Type: store.TypePerson,
				LoginKey: login, Profile: store.Profile{Login: login, Email: login + "@example.com", FirstName: "F", LastName: "L"},
				PasswordHash: "{SSHA}c2FsdHNhbHQ=", Created: now, Activated: now, StatusChanged: now, LastUpdated: now}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		err := s.View(ctx, func(r store.Reader) error {
			us, err := r.Users(o.ID)
			if err == nil && len(us) != n {
				err = fmt.Errorf("%d users", len(us))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
	if perUser := allocs / n; perUser > 2.5 {
		t.Errorf("Users: %.2f allocations a user, want at most 2.5", perUser)
	}
}
