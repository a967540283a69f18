package storetest

// Sign-on security: per-user authentication state, factors and policies.

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// --- fixtures

func factorID(n int) string { return fmt.Sprintf("00f%017d", n) }
func policyID(n int) string { return fmt.Sprintf("00p%017d", n) }

// newFactor returns an active factor with every field set.
func newFactor(n int, org, user string) *store.Factor {
	return &store.Factor{
		ID:          factorID(n),
		OrgID:       org,
		UserID:      user,
		Type:        store.FactorTOTP,
		Status:      store.FactorActive,
		Secret:      fmt.Sprintf("v1.k1.c2VhbGVk%03d", n),
		LastStep:    57_000_000 + int64(n),
		Created:     t0.Add(time.Duration(n) * time.Minute),
		Activated:   t0.Add(time.Duration(n)*time.Minute + time.Second).In(cet),
		LastUpdated: t0.Add(time.Duration(n)*time.Minute + 2*time.Second),
	}
}

// newPolicy returns a policy with every field set.
func newPolicy(n int, org, kind, nameKey string, priority int) *store.Policy {
	return &store.Policy{
		ID:          policyID(n),
		OrgID:       org,
		Kind:        kind,
		Name:        "Name " + nameKey,
		NameKey:     nameKey,
		Priority:    priority,
		Doc:         fmt.Appendf(nil, `{"name":%q,"priority":%d,"rules":[{"factor":"totp"}]}`, nameKey, priority),
		Created:     t0,
		LastUpdated: t0.Add(time.Minute).In(cet),
	}
}

// signOnFixture: orgs acme and beta; users ann and bob in acme, cat in
// beta.
func signOnFixture(t *testing.T, s store.Store) {
	update(t, s, func(tx store.Tx) error {
		a, b := newOrg(1, "acme"), newOrg(2, "beta")
		for _, err := range []error{
			tx.CreateOrg(a), tx.CreateOrg(b),
			tx.CreateUser(newUser(1, a.ID, "ann")), tx.CreateUser(newUser(2, a.ID, "bob")),
			tx.CreateUser(newUser(3, b.ID, "cat")),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// --- helpers

func normFactor(f *store.Factor) store.Factor {
	c := *f
	c.Created = normTime(c.Created)
	c.Activated = normTime(c.Activated)
	c.LastUpdated = normTime(c.LastUpdated)
	return c
}

func normPolicy(p *store.Policy) store.Policy {
	c := *p
	if len(c.Doc) == 0 {
		c.Doc = nil
	}
	c.Created = normTime(c.Created)
	c.LastUpdated = normTime(c.LastUpdated)
	return c
}

func sameFactor(t *testing.T, what string, got, want *store.Factor) {
	t.Helper()
	if g, w := normFactor(got), normFactor(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func samePolicy(t *testing.T, what string, got, want *store.Policy) {
	t.Helper()
	if g, w := normPolicy(got), normPolicy(want); !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\n     doc %s\nwant %+v\n     doc %s", what, g, g.Doc, w, w.Doc)
	}
}

func factorIDs(fs []*store.Factor) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.ID)
	}
	return out
}

func policyIDs(ps []*store.Policy) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}

// wantChange checks that the writes since before were exactly one change
// of kind and id in org.
func wantChange(t *testing.T, s store.Store, what string, before uint64, org string, kind store.Kind, id string) {
	t.Helper()
	wantSeq(t, s, before+1)
	c := changes(t, s, before, 10)
	if len(c) != 1 || c[0].Seq != before+1 || c[0].OrgID != org || c[0].Kind != kind || c[0].ID != id || c[0].At.IsZero() {
		t.Errorf("%s: changes = %+v, want one %s change of %s in %s with seq %d", what, c, kind, id, org, before+1)
	}
}

// --- tests

// testAuthState: FailedLogins, LastFailedLogin and PasswordHistory
// round-trip through UpdateUser, in every read, and RecordLogins leaves
// them alone.
func testAuthState(t *testing.T, s store.Store) {
	org := newOrg(1, "acme")
	u := newUser(1, org.ID, "ann")
	u.FailedLogins, u.LastFailedLogin, u.PasswordHistory = 0, time.Time{}, nil
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(org); err != nil {
			return err
		}
		return tx.CreateUser(u)
	})
	read := func(what string, want *store.User) {
		t.Helper()
		view(t, s, func(r store.Reader) error {
			got, err := r.User(want.ID)
			if err != nil {
				t.Fatalf("%s: User: %v", what, err)
			}
			sameUser(t, what+": User", got, want)
			got, err = r.UserByLogin(org.ID, want.LoginKey)
			if err != nil {
				t.Fatalf("%s: UserByLogin: %v", what, err)
			}
			sameUser(t, what+": UserByLogin", got, want)
			us, err := r.Users(org.ID)
			if err != nil || len(us) != 1 {
				t.Fatalf("%s: Users = %d, %v", what, len(us), err)
			}
			sameUser(t, what+": Users", us[0], want)
			return nil
		})
	}
	read("new user", u)

	steps := []struct {
		name    string
		failed  int
		last    time.Time
		history []string
	}{
		{"first failure", 1, t0.Add(time.Hour), nil},
		{"more failures", 5, t0.Add(time.Hour + 1500*time.Millisecond).In(cet), nil},
		{"password changed", 5, t0.Add(2 * time.Hour), []string{"{ARGON2}$argon2id$new", "{SSHA}b2xk"}},
		{"history grows, newest first", 1 << 20, t0.Add(3 * time.Hour), []string{"h3", "h2", "h1", ""}},
		{"reset", 0, time.Time{}, []string{}},
	}
	for _, st := range steps {
		u.FailedLogins, u.LastFailedLogin, u.PasswordHistory = st.failed, st.last, st.history
		before := seq(t, s)
		update(t, s, func(tx store.Tx) error { return tx.UpdateUser(u) })
		wantChange(t, s, st.name, before, org.ID, store.KindUser, u.ID)
		read(st.name, u)
	}

	u.FailedLogins, u.LastFailedLogin, u.PasswordHistory = 3, t0.Add(4*time.Hour), []string{"old"}
	update(t, s, func(tx store.Tx) error { return tx.UpdateUser(u) })
	at := t0.Add(5 * time.Hour)
	if err := s.RecordLogins(ctx, map[string]time.Time{u.ID: at}); err != nil {
		t.Fatalf("RecordLogins: %v", err)
	}
	u.LastLogin = at
	read("after RecordLogins", u)
}

func testFactors(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, ann := orgID(1), userID(1)
	full := newFactor(1, acme, ann)
	bare := &store.Factor{ // zero times and step
		ID:     factorID(2),
		OrgID:  acme,
		UserID: ann,
		Type:   store.FactorTOTP,
		Status: store.FactorPendingActivation,
		Secret: "sealed",
	}
	for _, f := range []*store.Factor{full, bare} {
		before := seq(t, s)
		update(t, s, func(tx store.Tx) error {
			if err := tx.CreateFactor(f); err != nil {
				return err
			}
			got, err := tx.Factor(f.ID) // a transaction reads its own writes
			if err != nil {
				return err
			}
			sameFactor(t, "Factor in Update", got, f)
			return nil
		})
		wantChange(t, s, "CreateFactor", before, acme, store.KindFactor, f.ID)
	}
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.Factor{full, bare} {
			got, err := r.Factor(want.ID)
			if err != nil {
				t.Fatalf("Factor(%s): %v", want.ID, err)
			}
			sameFactor(t, "Factor", got, want)
		}
		return nil
	})

	// UpdateFactor replaces every field but the owner.
	f2 := &store.Factor{
		ID:          bare.ID,
		OrgID:       acme,
		UserID:      ann,
		Type:        "token:software:totp:v2",
		Status:      store.FactorActive,
		Secret:      "resealed",
		LastStep:    1<<62 + 3,
		Created:     t0.Add(time.Millisecond),
		Activated:   t0.Add(time.Hour).In(cet),
		LastUpdated: t0.Add(2 * time.Hour),
	}
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.UpdateFactor(f2) })
	wantChange(t, s, "UpdateFactor", before, acme, store.KindFactor, f2.ID)
	f3 := *full
	f3.Activated, f3.Status, f3.LastStep = time.Time{}, store.FactorPendingActivation, 0
	update(t, s, func(tx store.Tx) error { return tx.UpdateFactor(&f3) })
	view(t, s, func(r store.Reader) error {
		got, err := r.Factor(f2.ID)
		if err != nil {
			t.Fatalf("Factor after UpdateFactor: %v", err)
		}
		sameFactor(t, "Factor after UpdateFactor", got, f2)
		got, err = r.Factor(full.ID)
		if err != nil {
			t.Fatalf("Factor after UpdateFactor: %v", err)
		}
		sameFactor(t, "Factor after UpdateFactor cleared Activated", got, &f3)
		// Returned records are copies.
		got.Secret = "changed"
		again, err := r.Factor(full.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameFactor(t, "Factor after changing a returned copy", again, &f3)
		return nil
	})

	// A factor stays with its user.
	moved := *f2
	moved.UserID = userID(2)
	before = seq(t, s)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdateFactor(&moved) }); err == nil {
		t.Error("UpdateFactor moving a factor to another user succeeded")
	}
	wantSeq(t, s, before)

	before = seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteFactor(full.ID) })
	wantChange(t, s, "DeleteFactor", before, acme, store.KindFactor, full.ID)
	view(t, s, func(r store.Reader) error {
		_, err := r.Factor(full.ID)
		wantIs(t, "Factor after DeleteFactor", err, store.ErrNotFound)
		fs, err := r.Factors(ann)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Factors after DeleteFactor", factorIDs(fs), []string{f2.ID})
		sameFactor(t, "Factors[0] after DeleteFactor", fs[0], f2)
		return nil
	})
	// The deleted id can be taken again.
	update(t, s, func(tx store.Tx) error { return tx.CreateFactor(newFactor(1, acme, ann)) })
}

func testFactorsOrdering(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, ann, bob := orgID(1), userID(1), userID(2)
	// Created ascends neither with id nor with insertion; ties fall back
	// to id order. Zones differ, instants decide.
	specs := []struct {
		n       int
		created time.Time
	}{
		{5, t0.Add(3 * time.Hour)},
		{1, t0.Add(2 * time.Hour).In(cet)},
		{9, t0.Add(time.Hour)},
		{7, t0.Add(2 * time.Hour)},
		{3, t0.Add(2*time.Hour + time.Millisecond)},
		{2, t0.Add(time.Hour).In(cet)},
	}
	update(t, s, func(tx store.Tx) error {
		for _, sp := range specs {
			f := newFactor(sp.n, acme, ann)
			f.Created = sp.created
			if err := tx.CreateFactor(f); err != nil {
				return err
			}
		}
		return tx.CreateFactor(newFactor(100, acme, bob))
	})
	view(t, s, func(r store.Reader) error {
		fs, err := r.Factors(ann)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Factors", factorIDs(fs), []string{
			factorID(2), factorID(9), factorID(1), factorID(7), factorID(3), factorID(5),
		})
		fs, err = r.Factors(bob)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Factors of bob", factorIDs(fs), []string{factorID(100)})
		for _, u := range []string{userID(3), userID(99)} {
			fs, err := r.Factors(u)
			if err != nil || len(fs) != 0 {
				t.Errorf("Factors(%s) = %v, %v; want none", u, factorIDs(fs), err)
			}
		}
		return nil
	})
}

func testFactorErrors(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta, ann := orgID(1), orgID(2), userID(1)
	update(t, s, func(tx store.Tx) error { return tx.CreateFactor(newFactor(1, acme, ann)) })
	before := seq(t, s)
	tests := []struct {
		name   string
		fn     func(tx store.Tx) error
		target error
	}{
		{"CreateFactor for a missing user", func(tx store.Tx) error { return tx.CreateFactor(newFactor(2, acme, userID(9))) }, store.ErrNotFound},
		{"CreateFactor for a user of another org", func(tx store.Tx) error { return tx.CreateFactor(newFactor(2, beta, ann)) }, store.ErrNotFound},
		{"CreateFactor in a missing org", func(tx store.Tx) error { return tx.CreateFactor(newFactor(2, orgID(9), ann)) }, store.ErrNotFound},
		{"CreateFactor id taken", func(tx store.Tx) error { return tx.CreateFactor(newFactor(1, acme, userID(2))) }, store.ErrConflict},
		{"UpdateFactor missing", func(tx store.Tx) error { return tx.UpdateFactor(newFactor(9, acme, ann)) }, store.ErrNotFound},
		{"DeleteFactor missing", func(tx store.Tx) error { return tx.DeleteFactor(factorID(9)) }, store.ErrNotFound},
	}
	for _, tc := range tests {
		err := s.Update(ctx, tc.fn)
		wantIs(t, tc.name, err, tc.target)
	}
	err := s.View(ctx, func(r store.Reader) error { _, err := r.Factor(factorID(9)); return err })
	wantIs(t, "Factor missing", err, store.ErrNotFound)
	wantSeq(t, s, before)
	view(t, s, func(r store.Reader) error {
		for _, u := range []string{ann, userID(2), userID(3)} {
			fs, err := r.Factors(u)
			if err != nil {
				t.Fatal(err)
			}
			want := []string(nil)
			if u == ann {
				want = []string{factorID(1)}
			}
			sameStrings(t, "Factors("+u+") after failed writes", factorIDs(fs), want)
		}
		return nil
	})
	// A failed write inside an Update that goes on leaves the rest intact.
	update(t, s, func(tx store.Tx) error {
		wantIs(t, "CreateFactor for a missing user, ignored", tx.CreateFactor(newFactor(3, acme, userID(9))), store.ErrNotFound)
		return tx.CreateFactor(newFactor(4, acme, ann))
	})
	wantChange(t, s, "CreateFactor after an ignored failure", before, acme, store.KindFactor, factorID(4))
}

func testDeleteUserDeletesFactors(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, ann, bob := orgID(1), userID(1), userID(2)
	update(t, s, func(tx store.Tx) error {
		for _, f := range []*store.Factor{newFactor(1, acme, ann), newFactor(2, acme, ann), newFactor(3, acme, bob)} {
			if err := tx.CreateFactor(f); err != nil {
				return err
			}
		}
		return nil
	})
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(ann) })
	wantChange(t, s, "DeleteUser", before, acme, store.KindUser, ann)
	view(t, s, func(r store.Reader) error {
		for _, id := range []string{factorID(1), factorID(2)} {
			_, err := r.Factor(id)
			wantIs(t, "Factor of a deleted user", err, store.ErrNotFound)
		}
		fs, err := r.Factors(ann)
		if err != nil || len(fs) != 0 {
			t.Errorf("Factors of a deleted user = %v, %v; want none", factorIDs(fs), err)
		}
		fs, err = r.Factors(bob)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Factors of another user", factorIDs(fs), []string{factorID(3)})
		return nil
	})
	// The user's login and the factor ids are free again.
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateUser(newUser(1, acme, "ann")); err != nil {
			return err
		}
		return tx.CreateFactor(newFactor(1, acme, ann))
	})
}

func testPolicies(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme := orgID(1)
	full := newPolicy(1, acme, store.PolicySignOn, "mfa-everyone", 1)
	bare := &store.Policy{ // no document, zero times, priority 0
		ID:      policyID(2),
		OrgID:   acme,
		Kind:    store.PolicyPassword,
		Name:    "Default",
		NameKey: "default",
	}
	for _, p := range []*store.Policy{full, bare} {
		before := seq(t, s)
		update(t, s, func(tx store.Tx) error {
			if err := tx.CreatePolicy(p); err != nil {
				return err
			}
			got, err := tx.Policy(p.ID) // a transaction reads its own writes
			if err != nil {
				return err
			}
			samePolicy(t, "Policy in Update", got, p)
			return nil
		})
		wantChange(t, s, "CreatePolicy", before, acme, store.KindPolicy, p.ID)
	}
	view(t, s, func(r store.Reader) error {
		for _, want := range []*store.Policy{full, bare} {
			got, err := r.Policy(want.ID)
			if err != nil {
				t.Fatalf("Policy(%s): %v", want.ID, err)
			}
			samePolicy(t, "Policy", got, want)
		}
		// Returned documents are copies.
		got, err := r.Policy(full.ID)
		if err != nil {
			t.Fatal(err)
		}
		got.Doc[0] = 'X'
		again, err := r.Policy(full.ID)
		if err != nil {
			t.Fatal(err)
		}
		samePolicy(t, "Policy after changing a returned document", again, full)
		return nil
	})

	// UpdatePolicy replaces every field but the org (the kind too), and
	// clears the document.
	p2 := &store.Policy{
		ID:          full.ID,
		OrgID:       acme,
		Kind:        store.PolicyPassword,
		Name:        "Strict",
		NameKey:     "strict",
		Priority:    -7,
		Doc:         nil,
		Created:     t0.Add(time.Second),
		LastUpdated: t0.Add(time.Hour),
	}
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(p2) })
	wantChange(t, s, "UpdatePolicy", before, acme, store.KindPolicy, p2.ID)
	b2 := *bare
	b2.Doc = bytes.Repeat([]byte(`{"k":"v"}`), 1000) // a larger document
	b2.Priority = 1 << 40
	update(t, s, func(tx store.Tx) error { return tx.UpdatePolicy(&b2) })
	view(t, s, func(r store.Reader) error {
		got, err := r.Policy(full.ID)
		if err != nil {
			t.Fatalf("Policy after UpdatePolicy: %v", err)
		}
		samePolicy(t, "Policy after UpdatePolicy", got, p2)
		got, err = r.Policy(bare.ID)
		if err != nil {
			t.Fatalf("Policy after UpdatePolicy: %v", err)
		}
		samePolicy(t, "Policy after UpdatePolicy with a document", got, &b2)
		return nil
	})

	// A policy stays in its org.
	moved := *p2
	moved.OrgID = orgID(2)
	before = seq(t, s)
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.UpdatePolicy(&moved) }); err == nil {
		t.Error("UpdatePolicy moving a policy to another org succeeded")
	}
	wantSeq(t, s, before)

	before = seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeletePolicy(full.ID) })
	wantChange(t, s, "DeletePolicy", before, acme, store.KindPolicy, full.ID)
	view(t, s, func(r store.Reader) error {
		_, err := r.Policy(full.ID)
		wantIs(t, "Policy after DeletePolicy", err, store.ErrNotFound)
		ps, err := r.Policies(acme)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Policies after DeletePolicy", policyIDs(ps), []string{bare.ID})
		return nil
	})
	// The freed name and id can be taken again.
	update(t, s, func(tx store.Tx) error {
		return tx.CreatePolicy(newPolicy(1, acme, store.PolicyPassword, "strict", 1))
	})
}

func testPoliciesOrdering(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta := orgID(1), orgID(2)
	// Kind, then priority (numerically: 10 after 2, negative first), then
	// name key in byte order; ids ascend in none of these.
	specs := []struct {
		n        int
		kind     string
		nameKey  string
		priority int
	}{
		{1, store.PolicySignOn, "zeta", 2},
		{2, store.PolicyPassword, "b", 1},
		{3, store.PolicySignOn, "alpha", 10},
		{4, store.PolicySignOn, "Beta", 2},
		{5, store.PolicySignOn, "beta", 2},
		{6, store.PolicyPassword, "a", 1},
		{7, store.PolicySignOn, "last", -1},
		{8, store.PolicySignOn, "b-x", 2},
		{9, store.PolicySignOn, "b.x", 2},
	}
	update(t, s, func(tx store.Tx) error {
		for _, sp := range specs {
			if err := tx.CreatePolicy(newPolicy(sp.n, acme, sp.kind, sp.nameKey, sp.priority)); err != nil {
				return err
			}
		}
		return tx.CreatePolicy(newPolicy(100, beta, store.PolicyPassword, "a", 0))
	})
	view(t, s, func(r store.Reader) error {
		ps, err := r.Policies(acme)
		if err != nil {
			t.Fatal(err)
		}
		// "password" < "sign-on"; within sign-on: -1 last, then 2: Beta,
		// b-x, b.x, beta, zeta; then 10 alpha.
		sameStrings(t, "Policies", policyIDs(ps), []string{
			policyID(6), policyID(2),
			policyID(7), policyID(4), policyID(8), policyID(9), policyID(5), policyID(1), policyID(3),
		})
		ps, err = r.Policies(beta)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Policies of beta", policyIDs(ps), []string{policyID(100)})
		ps, err = r.Policies(orgID(9))
		if err != nil || len(ps) != 0 {
			t.Errorf("Policies of a missing org = %v, %v; want none", policyIDs(ps), err)
		}
		return nil
	})
}

func testPolicyConflicts(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta := orgID(1), orgID(2)
	update(t, s, func(tx store.Tx) error {
		for _, p := range []*store.Policy{
			newPolicy(1, acme, store.PolicySignOn, "mfa", 1),
			newPolicy(2, acme, store.PolicySignOn, "legacy", 2),
			newPolicy(3, acme, store.PolicyPassword, "default", 1),
		} {
			if err := tx.CreatePolicy(p); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name   string
		fn     func(tx store.Tx) error
		target error // nil: succeeds
	}{
		{"name taken in org and kind", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(10, acme, store.PolicySignOn, "mfa", 5))
		}, store.ErrConflict},
		{"id taken", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(1, beta, store.PolicySignOn, "other", 1))
		}, store.ErrConflict},
		{"rename to a taken name", func(tx store.Tx) error {
			return tx.UpdatePolicy(newPolicy(2, acme, store.PolicySignOn, "mfa", 2))
		}, store.ErrConflict},
		{"change kind to one where the name is taken", func(tx store.Tx) error {
			return tx.UpdatePolicy(newPolicy(1, acme, store.PolicyPassword, "default", 1))
		}, store.ErrConflict},
		{"missing org", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(11, orgID(9), store.PolicySignOn, "x", 1))
		}, store.ErrNotFound},
		{"UpdatePolicy missing", func(tx store.Tx) error {
			return tx.UpdatePolicy(newPolicy(12, acme, store.PolicySignOn, "x", 1))
		}, store.ErrNotFound},
		{"DeletePolicy missing", func(tx store.Tx) error { return tx.DeletePolicy(policyID(12)) }, store.ErrNotFound},
		{"Policy missing", func(tx store.Tx) error { _, err := tx.Policy(policyID(12)); return err }, store.ErrNotFound},
		{"same name in another kind", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(13, acme, store.PolicyPassword, "mfa", 2))
		}, nil},
		{"same name in another org", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(14, beta, store.PolicySignOn, "mfa", 1))
		}, nil},
		{"keep own name", func(tx store.Tx) error {
			return tx.UpdatePolicy(newPolicy(2, acme, store.PolicySignOn, "legacy", 9))
		}, nil},
		{"same priority", func(tx store.Tx) error {
			return tx.CreatePolicy(newPolicy(15, acme, store.PolicySignOn, "again", 1))
		}, nil},
	}
	for _, tc := range tests {
		before := seq(t, s)
		err := s.Update(ctx, tc.fn)
		if tc.target == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			wantSeq(t, s, before+1)
			continue
		}
		wantIs(t, tc.name, err, tc.target)
		wantSeq(t, s, before)
	}
	view(t, s, func(r store.Reader) error {
		ps, err := r.Policies(acme)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range ps {
			got = append(got, fmt.Sprintf("%s/%s/%d", p.Kind, p.NameKey, p.Priority))
		}
		sameStrings(t, "policies of acme after conflicts", got, []string{
			"password/default/1", "password/mfa/2",
			"sign-on/again/1", "sign-on/mfa/1", "sign-on/legacy/9",
		})
		return nil
	})
}

// testFactorPolicyChanges: every factor and policy write takes the next
// sequence number and records one change naming the record.
func testFactorPolicyChanges(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta, ann, cat := orgID(1), orgID(2), userID(1), userID(3)
	f := newFactor(1, acme, ann)
	g := newFactor(2, beta, cat)
	p := newPolicy(1, acme, store.PolicySignOn, "mfa", 1)
	q := newPolicy(2, beta, store.PolicyPassword, "default", 1)
	steps := []struct {
		org  string
		kind store.Kind
		id   string
		fn   func(tx store.Tx) error
	}{
		{acme, store.KindFactor, f.ID, func(tx store.Tx) error { return tx.CreateFactor(f) }},
		{beta, store.KindFactor, g.ID, func(tx store.Tx) error { return tx.CreateFactor(g) }},
		{acme, store.KindFactor, f.ID, func(tx store.Tx) error { f.LastStep++; return tx.UpdateFactor(f) }},
		{acme, store.KindPolicy, p.ID, func(tx store.Tx) error { return tx.CreatePolicy(p) }},
		{beta, store.KindPolicy, q.ID, func(tx store.Tx) error { return tx.CreatePolicy(q) }},
		{acme, store.KindPolicy, p.ID, func(tx store.Tx) error { p.Priority = 3; return tx.UpdatePolicy(p) }},
		{beta, store.KindPolicy, q.ID, func(tx store.Tx) error { return tx.DeletePolicy(q.ID) }},
		{acme, store.KindFactor, f.ID, func(tx store.Tx) error { return tx.DeleteFactor(f.ID) }},
		{beta, store.KindUser, cat, func(tx store.Tx) error { return tx.DeleteUser(cat) }}, // and g with it
	}
	start := seq(t, s)
	var want []store.Change
	for i, st := range steps {
		n := start + uint64(i) + 1
		update(t, s, func(tx store.Tx) error {
			if err := st.fn(tx); err != nil {
				return err
			}
			if got, err := tx.Seq(); err != nil || got != n {
				t.Errorf("step %d: Tx.Seq after the write = %d, %v; want %d", i+1, got, err, n)
			}
			return nil
		})
		wantSeq(t, s, n)
		want = append(want, store.Change{Seq: n, OrgID: st.org, Kind: st.kind, ID: st.id})
	}
	got := changes(t, s, start, 100)
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d: %+v", len(got), len(want), got)
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Seq != w.Seq || g.OrgID != w.OrgID || g.Kind != w.Kind || g.ID != w.ID || g.At.IsZero() {
			t.Errorf("change %d = %+v, want %+v", i, g, w)
		}
	}

	// Several in one Update take consecutive numbers.
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.CreateFactor(newFactor(3, acme, ann)),
			tx.CreatePolicy(newPolicy(3, acme, store.PolicySignOn, "x", 1)),
			tx.DeleteFactor(factorID(3)),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	wantSeq(t, s, before+3)
	c := changes(t, s, before, 10)
	kinds := []store.Kind{store.KindFactor, store.KindPolicy, store.KindFactor}
	if len(c) != 3 {
		t.Fatalf("changes of a 3-write Update = %+v", c)
	}
	for i := range c {
		if c[i].Seq != before+uint64(i)+1 || c[i].Kind != kinds[i] || c[i].OrgID != acme {
			t.Errorf("change %d of a 3-write Update = %+v", i, c[i])
		}
	}
}

// testFailedUpdateFactorsPolicies: a failed or panicking Update keeps none
// of its factor and policy writes.
func testFailedUpdateFactorsPolicies(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, ann := orgID(1), userID(1)
	f := newFactor(1, acme, ann)
	p := newPolicy(1, acme, store.PolicySignOn, "mfa", 1)
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateFactor(f); err != nil {
			return err
		}
		return tx.CreatePolicy(p)
	})
	for i, tc := range []struct {
		name   string
		panics bool
	}{{"fn returns an error", false}, {"fn panics", true}} {
		name, panics := tc.name, tc.panics
		before := seq(t, s)
		var err error
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			err = s.Update(ctx, func(tx store.Tx) error {
				f2, p2 := *f, *p
				f2.Status, f2.LastStep = store.FactorPendingActivation, 99
				p2.Name, p2.Doc = "changed", []byte(`{}`)
				for _, err := range []error{
					tx.CreateFactor(newFactor(2, acme, ann)),
					tx.CreatePolicy(newPolicy(2, acme, store.PolicyPassword, "new", 1)),
					tx.UpdateFactor(&f2),
					tx.UpdatePolicy(&p2),
					tx.DeleteFactor(f.ID),
					tx.DeletePolicy(p.ID),
					tx.DeleteUser(userID(2)),
				} {
					if err != nil {
						return err
					}
				}
				if panics {
					panic(errBoom)
				}
				return fmt.Errorf("wrapped: %w", errBoom)
			})
		}()
		if panics {
			if recovered != errBoom {
				t.Errorf("%s: Update did not re-panic with fn's value: recovered %v, err %v", name, recovered, err)
			}
		} else {
			if recovered != nil {
				t.Fatalf("%s: Update panicked: %v", name, recovered)
			}
			wantIs(t, name, err, errBoom)
		}
		wantSeq(t, s, before)
		if c := changes(t, s, before, 10); len(c) != 0 {
			t.Errorf("%s: changes after a failed Update: %+v", name, c)
		}
		view(t, s, func(r store.Reader) error {
			_, err := r.Factor(factorID(2))
			wantIs(t, name+": created factor", err, store.ErrNotFound)
			_, err = r.Policy(policyID(2))
			wantIs(t, name+": created policy", err, store.ErrNotFound)
			gotF, err := r.Factor(f.ID)
			if err != nil {
				t.Fatalf("%s: updated and deleted factor: %v", name, err)
			}
			sameFactor(t, name+": factor", gotF, f)
			gotP, err := r.Policy(p.ID)
			if err != nil {
				t.Fatalf("%s: updated and deleted policy: %v", name, err)
			}
			samePolicy(t, name+": policy", gotP, p)
			fs, err := r.Factors(ann)
			if err != nil {
				t.Fatal(err)
			}
			sameStrings(t, name+": Factors", factorIDs(fs), []string{f.ID})
			ps, err := r.Policies(acme)
			if err != nil {
				t.Fatal(err)
			}
			sameStrings(t, name+": Policies", policyIDs(ps), []string{p.ID})
			if _, err := r.User(userID(2)); err != nil {
				t.Errorf("%s: deleted user is gone: %v", name, err)
			}
			return nil
		})
		// The store still works, and the sequence has no hole.
		update(t, s, func(tx store.Tx) error { return tx.CreateUser(newUser(60+i, acme, fmt.Sprintf("after%d", i))) })
		if c := changes(t, s, before, 10); len(c) != 1 || c[0].Seq != before+1 {
			t.Errorf("%s: next change = %+v, want seq %d", name, c, before+1)
		}
	}
}
