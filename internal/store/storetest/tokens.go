package storetest

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// API tokens and the users page (REST API, issue 7).

func tokenID(n int) string { return fmt.Sprintf("00T%017d", n) }

func newToken(n int, org, user string) *store.Token {
	return &store.Token{
		ID: tokenID(n), OrgID: org, UserID: user, Name: fmt.Sprintf("token %d", n),
		Hash:    fmt.Sprintf("%064x", n),
		Created: t0.Add(time.Duration(n) * time.Second),
	}
}

func normToken(t *store.Token) store.Token {
	c := *t
	c.Created, c.LastUsed = normTime(c.Created), normTime(c.LastUsed)
	return c
}

func sameToken(t *testing.T, what string, got, want *store.Token) {
	t.Helper()
	if !reflect.DeepEqual(normToken(got), normToken(want)) {
		t.Errorf("%s = %+v, want %+v", what, *got, *want)
	}
}

func tokenIDs(ts []*store.Token) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

func testTokens(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta, ann, bob, cat := orgID(1), orgID(2), userID(1), userID(2), userID(3)
	t1, t2, t3 := newToken(1, acme, ann), newToken(2, acme, bob), newToken(3, beta, cat)
	for _, tok := range []*store.Token{t2, t1, t3} { // t2 first: Tokens orders by Created
		before := seq(t, s)
		update(t, s, func(tx store.Tx) error { return tx.CreateToken(tok) })
		wantChange(t, s, "CreateToken", before, tok.OrgID, store.KindToken, tok.ID)
	}
	view(t, s, func(r store.Reader) error {
		got, err := r.Token(t1.ID)
		if err != nil {
			t.Fatalf("Token: %v", err)
		}
		sameToken(t, "Token", got, t1)
		got, err = r.TokenByHash(t2.Hash)
		if err != nil {
			t.Fatalf("TokenByHash: %v", err)
		}
		sameToken(t, "TokenByHash", got, t2)
		ts, err := r.Tokens(acme)
		if err != nil {
			t.Fatalf("Tokens: %v", err)
		}
		sameStrings(t, "Tokens(acme)", tokenIDs(ts), []string{t1.ID, t2.ID})
		_, err = r.TokenByHash(fmt.Sprintf("%064x", 99))
		wantIs(t, "TokenByHash of an unknown hash", err, store.ErrNotFound)
		_, err = r.Token(tokenID(99))
		wantIs(t, "Token of an unknown id", err, store.ErrNotFound)
		return nil
	})

	// An installation token has neither org nor user; Tokens("") lists
	// those.
	inst := newToken(7, "", "")
	update(t, s, func(tx store.Tx) error { return tx.CreateToken(inst) })
	view(t, s, func(r store.Reader) error {
		got, err := r.TokenByHash(inst.Hash)
		if err != nil {
			t.Fatalf("TokenByHash of an installation token: %v", err)
		}
		sameToken(t, "installation token", got, inst)
		ts, err := r.Tokens("")
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Tokens(\"\")", tokenIDs(ts), []string{inst.ID})
		return nil
	})
	halfway := newToken(8, acme, "")
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateToken(halfway) }); err == nil {
		t.Errorf("CreateToken with an org and no user: no error")
	}

	// Conflicts and missing users refuse the whole token.
	dupID, dupHash := newToken(1, acme, bob), newToken(4, acme, bob)
	dupHash.Hash = t1.Hash
	otherOrg := newToken(5, acme, cat)
	for _, tc := range []struct {
		what string
		tok  *store.Token
		want error
	}{
		{"CreateToken with a taken id", dupID, store.ErrConflict},
		{"CreateToken with a taken hash", dupHash, store.ErrConflict},
		{"CreateToken for a user of another org", otherOrg, store.ErrNotFound},
		{"CreateToken for a missing user", newToken(6, acme, userID(99)), store.ErrNotFound},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateToken(tc.tok) })
		wantIs(t, tc.what, err, tc.want)
	}

	// Last use is recorded without a change; unknown ids are ignored.
	before := seq(t, s)
	used := t0.Add(time.Hour + 7*time.Millisecond)
	if err := s.RecordTokenUses(ctx, map[string]time.Time{t1.ID: used, tokenID(99): used}); err != nil {
		t.Fatalf("RecordTokenUses: %v", err)
	}
	wantSeq(t, s, before)
	view(t, s, func(r store.Reader) error {
		got, err := r.Token(t1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.LastUsed.Equal(used) {
			t.Errorf("LastUsed = %v, want %v", got.LastUsed, used)
		}
		return nil
	})

	// Deleting a token, and deleting a user deletes the user's tokens.
	before = seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteToken(t1.ID) })
	wantChange(t, s, "DeleteToken", before, acme, store.KindToken, t1.ID)
	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteToken(t1.ID) })
	wantIs(t, "DeleteToken twice", err, store.ErrNotFound)
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(bob) })
	view(t, s, func(r store.Reader) error {
		_, err := r.Token(t2.ID)
		wantIs(t, "Token of a deleted user", err, store.ErrNotFound)
		ts, err := r.Tokens(acme)
		if err != nil || len(ts) != 0 {
			t.Errorf("Tokens(acme) = %v, %v; want none", tokenIDs(ts), err)
		}
		ts, err = r.Tokens(beta)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "Tokens(beta)", tokenIDs(ts), []string{t3.ID})
		return nil
	})
}

func testUsersPage(t *testing.T, s store.Store) {
	a, b := newOrg(1, "acme"), newOrg(2, "beta")
	update(t, s, func(tx store.Tx) error {
		if err := tx.CreateOrg(a); err != nil {
			return err
		}
		if err := tx.CreateOrg(b); err != nil {
			return err
		}
		// Ids in another order than logins, and another org's in between.
		for i, n := range []int{5, 1, 4, 2, 3} {
			if err := tx.CreateUser(newUser(n, a.ID, fmt.Sprintf("user%d", i))); err != nil {
				return err
			}
		}
		return tx.CreateUser(newUser(9, b.ID, "other"))
	})
	view(t, s, func(r store.Reader) error {
		var got []string
		after := ""
		for range 10 {
			page, err := r.UsersPage(a.ID, after, 2)
			if err != nil {
				t.Fatalf("UsersPage(%q): %v", after, err)
			}
			if len(page) > 2 {
				t.Fatalf("UsersPage(%q, 2) returned %d users", after, len(page))
			}
			if len(page) == 0 {
				break
			}
			got = append(got, userIDs(page)...)
			after = page[len(page)-1].ID
		}
		sameStrings(t, "UsersPage walked", got, []string{userID(1), userID(2), userID(3), userID(4), userID(5)})
		page, err := r.UsersPage(a.ID, userID(2), 100)
		if err != nil {
			t.Fatal(err)
		}
		sameStrings(t, "UsersPage after an id", userIDs(page), []string{userID(3), userID(4), userID(5)})
		if len(page) > 0 {
			sameUser(t, "UsersPage's user", page[0], newUser(3, a.ID, "user4"))
		}
		counts, err := r.UserCounts(a.ID)
		if err != nil || len(counts) != 1 || counts[store.StatusActive] != 5 {
			t.Errorf("UserCounts = %v, %v; want 5 ACTIVE", counts, err)
		}
		page, err = r.UsersPage(a.ID, "", 0)
		if err != nil || len(page) != 0 {
			t.Errorf("UsersPage with limit 0 = %v, %v; want none", userIDs(page), err)
		}
		return nil
	})
}

func testDeleteOrg(t *testing.T, s store.Store) {
	signOnFixture(t, s)
	acme, beta, ann, bob := orgID(1), orgID(2), userID(1), userID(2)
	update(t, s, func(tx store.Tx) error {
		for _, err := range []error{
			tx.CreateGroup(newGroup(1, acme, "eng")), tx.CreateGroup(newGroup(2, beta, "ops")),
			tx.CreateFactor(newFactor(1, acme, ann)), tx.CreatePolicy(newPolicy(1, acme, store.PolicySignOn, "p", 1)),
			tx.CreateToken(newToken(1, acme, bob)), tx.CreateToken(newToken(2, beta, userID(3))),
		} {
			if err != nil {
				return err
			}
		}
		_, err := tx.AddMember(groupID(1), ann)
		return err
	})
	before := seq(t, s)
	update(t, s, func(tx store.Tx) error { return tx.DeleteOrg(acme) })
	wantChange(t, s, "DeleteOrg", before, acme, store.KindOrg, acme)
	view(t, s, func(r store.Reader) error {
		_, err := r.Org(acme)
		wantIs(t, "Org after DeleteOrg", err, store.ErrNotFound)
		for what, err := range map[string]error{
			"User":   func() error { _, err := r.User(ann); return err }(),
			"Group":  func() error { _, err := r.Group(groupID(1)); return err }(),
			"Factor": func() error { _, err := r.Factor(factorID(1)); return err }(),
			"Policy": func() error { _, err := r.Policy(policyID(1)); return err }(),
			"Token":  func() error { _, err := r.Token(tokenID(1)); return err }(),
		} {
			wantIs(t, what+" of a deleted org", err, store.ErrNotFound)
		}
		// The other org is untouched.
		if _, err := r.Group(groupID(2)); err != nil {
			t.Errorf("the other org's group: %v", err)
		}
		if _, err := r.Token(tokenID(2)); err != nil {
			t.Errorf("the other org's token: %v", err)
		}
		return nil
	})
	err := s.Update(ctx, func(tx store.Tx) error { return tx.DeleteOrg(acme) })
	wantIs(t, "DeleteOrg twice", err, store.ErrNotFound)
	// The name is free again.
	update(t, s, func(tx store.Tx) error { return tx.CreateOrg(newOrg(1, "acme")) })
}
