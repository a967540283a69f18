package directory_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
)

const mfaPolicy = `
kind: sign-on
name: MFA over LDAP
priority: 1
people:
  groups: {include: [Everyone]}
  users: {exclude: [ldap-bind]}
rules:
  - name: LDAP needs MFA
    priority: 1
    conditions: {authType: ldap}
    action: mfa
`

func parse(t *testing.T, doc string) []policy.Policy {
	t.Helper()
	ps, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestApplyPolicies(t *testing.T) {
	d, st, _ := newDir(t)
	ctx := context.Background()
	bind := mustUser(t, d, "ldap-bind", "password", "")
	alice := mustUser(t, d, "alice", "password", "")

	// A policy naming a user that does not exist is refused whole.
	_, err := d.ApplyPolicies(ctx, "example", parse(t, strings.ReplaceAll(mfaPolicy, "ldap-bind", "ghost")), directory.PolicyUpsert)
	if directory.CodeOf(err) != directory.CodeInvalid || !strings.Contains(err.Error(), "ghost") {
		t.Fatalf("unknown user: %v", err)
	}
	seq0, _ := st.Seq(ctx)
	res, err := d.ApplyPolicies(ctx, "example", parse(t, mfaPolicy), directory.PolicyUpsert)
	if err != nil || len(res.Created) != 1 || res.Created[0] != "sign-on/MFA over LDAP" {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if seq, _ := st.Seq(ctx); seq != seq0+1 {
		t.Fatalf("seq %d -> %d, want one change", seq0, seq)
	}
	// Applying the same file again changes nothing; create-only refuses.
	if res, err = d.ApplyPolicies(ctx, "example", parse(t, mfaPolicy), directory.PolicyUpsert); err != nil || len(res.Unchanged) != 1 {
		t.Fatalf("re-apply: %+v %v", res, err)
	}
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, mfaPolicy), directory.PolicyCreateOnly); directory.CodeOf(err) != directory.CodeConflict {
		t.Fatalf("create of an existing policy: %v", err)
	}
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, strings.ReplaceAll(mfaPolicy, "MFA over LDAP", "Other")), directory.PolicyUpdateOnly); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("update of a missing policy: %v", err)
	}
	// A second policy with the same priority would make the set invalid.
	if _, err := d.ApplyPolicies(ctx, "example", parse(t, strings.ReplaceAll(mfaPolicy, "MFA over LDAP", "Other")), directory.PolicyUpsert); directory.CodeOf(err) != directory.CodeInvalid {
		t.Fatalf("duplicate priority: %v", err)
	}
	// An update keeps the id.
	ps, err := d.Policies(ctx, "example")
	if err != nil || len(ps) != 1 || ps[0].ID == "" {
		t.Fatalf("policies: %+v %v", ps, err)
	}
	id := ps[0].ID
	if res, err = d.ApplyPolicies(ctx, "example", parse(t, strings.ReplaceAll(mfaPolicy, "action: mfa", "action: deny")), directory.PolicyUpdateOnly); err != nil || len(res.Updated) != 1 {
		t.Fatalf("update: %+v %v", res, err)
	}
	if ps, _ = d.Policies(ctx, "example"); ps[0].ID != id || ps[0].Rules[0].Action != policy.ActionDeny {
		t.Fatalf("after update: %+v", ps[0])
	}
	d.ApplyPolicies(ctx, "example", parse(t, mfaPolicy), directory.PolicyUpdateOnly)

	// The compiled set is the reference documents' scenario: people need
	// MFA over LDAP, the bind account does not.
	o, _ := d.Org(ctx, "example")
	set, err := d.CompilePolicies(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		user *directory.User
		want policy.Action
	}{{alice, policy.ActionMFA}, {bind, policy.ActionAllow}} {
		got := set.SignOn(policy.Subject{UserID: tc.user.ID, Type: policy.UserPerson}, policy.Context{AuthType: policy.AuthLDAP})
		if got.Action != tc.want {
			t.Errorf("%s: %s, want %s", tc.user.Profile.Login, got.Action, tc.want)
		}
	}

	if err := d.DeletePolicy(ctx, "example", policy.KindSignOn, "mfa over ldap"); err != nil {
		t.Fatal(err)
	}
	if err := d.DeletePolicy(ctx, "example", policy.KindSignOn, "mfa over ldap"); directory.CodeOf(err) != directory.CodeNotFound {
		t.Fatalf("second delete: %v", err)
	}
}
