package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

func integrationID(n int) string { return fmt.Sprintf("0oa%017d", n) }

func newIntegration(n int, org, name string) *store.Integration {
	return &store.Integration{ID: integrationID(n), OrgID: org, Name: name, NameKey: name, Kind: "ldap",
		Settings: []byte(`{"urls":["ldaps://ad.example.com"]}`), Owned: []string{"email", "firstName"}, Secret: "sealed-secret", State: []byte(`{"lastRun":"x"}`),
		Created: t0, LastUpdated: t0.Add(time.Minute)}
}

func sameIntegration(t *testing.T, what string, got, want *store.Integration) {
	t.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Name != want.Name || got.NameKey != want.NameKey || got.Kind != want.Kind ||
		got.Default != want.Default || string(got.Settings) != string(want.Settings) || got.Secret != want.Secret ||
		fmt.Sprint(got.Owned) != fmt.Sprint(want.Owned) ||
		string(got.State) != string(want.State) || !got.Created.Equal(want.Created) || !got.LastUpdated.Equal(want.LastUpdated) {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

func linkIDs(ls []store.SyncLink) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.ExternalID+"="+l.LocalID)
	}
	return out
}

// testIntegrations pins integrations and their links: round trips, name
// conflicts per org, one integration per user, links gone with their user,
// group or integration, and everything gone with the org.
func testIntegrations(t *testing.T, s store.Store) {
	a, b := newOrg(1, "acme"), newOrg(2, "beta")
	ad, ldap, other := newIntegration(1, a.ID, "ad"), newIntegration(2, a.ID, "ldap"), newIntegration(3, b.ID, "ad")
	ldap.Settings, ldap.State, ldap.Owned, ldap.Default = nil, nil, nil, true
	update(t, s, func(tx store.Tx) error {
		for _, o := range []*store.Org{a, b} {
			if err := tx.CreateOrg(o); err != nil {
				return err
			}
		}
		for n := 1; n <= 3; n++ {
			if err := tx.CreateUser(newUser(n, a.ID, fmt.Sprintf("user%d", n))); err != nil {
				return err
			}
		}
		if err := tx.CreateUser(newUser(9, b.ID, "other")); err != nil {
			return err
		}
		if err := tx.CreateGroup(newGroup(1, a.ID, "eng")); err != nil {
			return err
		}
		for _, in := range []*store.Integration{ldap, ad, other} {
			if err := tx.CreateIntegration(in); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(r store.Reader) error {
		got, err := r.Integration(ad.ID)
		if err != nil {
			return err
		}
		sameIntegration(t, "Integration", got, ad)
		list, err := r.Integrations(a.ID)
		if err != nil || len(list) != 2 || list[0].ID != ad.ID || list[1].ID != ldap.ID {
			t.Fatalf("Integrations: %v %v", list, err)
		}
		sameIntegration(t, "Integrations[1]", list[1], ldap)
		if _, err := r.Integration(integrationID(99)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a missing integration: %v", err)
		}
		return nil
	})
	// Names are unique per org.
	err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateIntegration(newIntegration(4, a.ID, "ad")) })
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("a second integration named ad: %v", err)
	}
	ad.Name, ad.State = "AD", []byte(`{"lastRun":"y"}`)
	update(t, s, func(tx store.Tx) error { return tx.UpdateIntegration(ad) })

	// Links.
	update(t, s, func(tx store.Tx) error {
		for _, l := range []store.SyncLink{
			{IntegrationID: ad.ID, ExternalID: "guid-2", LocalID: userID(2)},
			{IntegrationID: ad.ID, ExternalID: "guid-1", LocalID: userID(1)},
			{IntegrationID: ldap.ID, ExternalID: "uid=3", LocalID: userID(3)},
		} {
			if err := tx.PutSyncUser(l); err != nil {
				return err
			}
		}
		return tx.PutSyncGroup(store.SyncLink{IntegrationID: ad.ID, ExternalID: "g-1", LocalID: groupID(1)})
	})
	for _, tc := range []struct {
		name string
		l    store.SyncLink
		want error
	}{
		{"a user of another integration", store.SyncLink{IntegrationID: ldap.ID, ExternalID: "x", LocalID: userID(1)}, store.ErrConflict},
		{"a user under a second external id", store.SyncLink{IntegrationID: ad.ID, ExternalID: "guid-9", LocalID: userID(1)}, store.ErrConflict},
		{"a missing user", store.SyncLink{IntegrationID: ad.ID, ExternalID: "y", LocalID: userID(50)}, store.ErrNotFound},
		{"a missing integration", store.SyncLink{IntegrationID: integrationID(50), ExternalID: "y", LocalID: userID(1)}, store.ErrNotFound},
		{"a user of another org", store.SyncLink{IntegrationID: ad.ID, ExternalID: "y", LocalID: userID(9)}, store.ErrNotFound},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.PutSyncUser(tc.l) })
		if !errors.Is(err, tc.want) {
			t.Errorf("PutSyncUser, %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	view(t, s, func(r store.Reader) error {
		got, err := r.Integration(ad.ID)
		if err != nil {
			return err
		}
		sameIntegration(t, "Integration after UpdateIntegration", got, ad)
		ls, err := r.SyncUsers(ad.ID)
		if err != nil {
			return err
		}
		sameStrings(t, "SyncUsers", linkIDs(ls), []string{"guid-1=" + userID(1), "guid-2=" + userID(2)})
		gs, err := r.SyncGroups(ad.ID)
		if err != nil {
			return err
		}
		sameStrings(t, "SyncGroups", linkIDs(gs), []string{"g-1=" + groupID(1)})
		if ls, err := r.SyncUsers(other.ID); err != nil || len(ls) != 0 {
			t.Errorf("SyncUsers of an integration without links: %v %v", ls, err)
		}
		for user, want := range map[string]string{userID(1): ad.ID, userID(3): ldap.ID, userID(9): ""} {
			if got, err := r.UserIntegration(user); err != nil || got != want {
				t.Errorf("UserIntegration(%s) = %q, %v; want %q", user, got, err, want)
			}
		}
		return nil
	})
	// Relinking an external id to another user replaces the link; deleting
	// a user, a group or a link drops it.
	update(t, s, func(tx store.Tx) error {
		if err := tx.PutSyncUser(store.SyncLink{IntegrationID: ad.ID, ExternalID: "guid-2", LocalID: userID(2)}); err != nil {
			return err
		}
		if err := tx.DeleteUser(userID(1)); err != nil {
			return err
		}
		if err := tx.DeleteGroup(groupID(1)); err != nil {
			return err
		}
		if ok, err := tx.DeleteSyncUser(ldap.ID, "uid=3"); err != nil || !ok {
			return fmt.Errorf("DeleteSyncUser: %v %v", ok, err)
		}
		if ok, err := tx.DeleteSyncUser(ldap.ID, "uid=3"); err != nil || ok {
			return fmt.Errorf("DeleteSyncUser again: %v %v", ok, err)
		}
		return nil
	})
	view(t, s, func(r store.Reader) error {
		ls, _ := r.SyncUsers(ad.ID)
		sameStrings(t, "SyncUsers after deleting user1", linkIDs(ls), []string{"guid-2=" + userID(2)})
		if gs, _ := r.SyncGroups(ad.ID); len(gs) != 0 {
			t.Errorf("SyncGroups after deleting the group: %v", gs)
		}
		return nil
	})
	// Deleting an integration drops its links, not its users.
	update(t, s, func(tx store.Tx) error { return tx.DeleteIntegration(ad.ID) })
	view(t, s, func(r store.Reader) error {
		if _, err := r.User(userID(2)); err != nil {
			t.Errorf("user2 after deleting its integration: %v", err)
		}
		if got, _ := r.UserIntegration(userID(2)); got != "" {
			t.Errorf("user2 still linked to %q", got)
		}
		return nil
	})
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteIntegration(ad.ID) }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting a deleted integration: %v", err)
	}
	// Deleting the org deletes its integrations.
	update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(a.ID) })
	view(t, s, func(r store.Reader) error {
		if _, err := r.Integration(ldap.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the org's integration after DeleteOrg: %v", err)
		}
		if _, err := r.Integration(other.ID); err != nil {
			t.Errorf("another org's integration after DeleteOrg: %v", err)
		}
		return nil
	})
}
