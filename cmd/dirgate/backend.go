package main

import (
	"context"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// backend is what the user, group, factor and policy commands act on, so that each
// command body is written once: a data directory opened in this process
// (localBackend: *directory.Directory itself) or, with --server, a running
// server's REST API (remoteBackend, remote.go). The methods are
// *directory.Directory's, with its semantics and its errors (a remote
// backend's errors unwrap to the *directory.Error the server reported), so
// that the output is the same either way.
//
// org is the --org of the command; a remote backend works in its token's
// org (checked against --org when one is given, before any call).
type backend interface {
	CreateUser(ctx context.Context, org string, in directory.UserInput) (*directory.User, error)
	User(ctx context.Context, org, ref string) (*directory.User, error)
	Users(ctx context.Context, org string) ([]*directory.User, error) // ordered by login
	UserGroups(ctx context.Context, org, ref string) ([]*directory.Group, error)
	SetPassword(ctx context.Context, org, ref string, pw []byte) (*directory.User, error)
	// PatchProfile sets some profile attributes ("" clears one).
	PatchProfile(ctx context.Context, org, ref string, set map[string]string) (*directory.User, error)
	Lifecycle(ctx context.Context, org, ref string, a directory.Action) (*directory.User, error)
	// DeleteUser deletes a DEPROVISIONED user and refuses any other.
	DeleteUser(ctx context.Context, org, ref string) error
	AssignRole(ctx context.Context, org, ref, role string) (*directory.User, error)
	RemoveRole(ctx context.Context, org, ref, role string) (*directory.User, error)

	CreateGroup(ctx context.Context, org string, in directory.GroupInput) (*directory.Group, error)
	DeleteGroup(ctx context.Context, org, ref string) error
	// AddMember and RemoveMember report whether the membership changed.
	AddMember(ctx context.Context, org, groupRef, userRef string) (bool, error)
	RemoveMember(ctx context.Context, org, groupRef, userRef string) (bool, error)
	GroupMembers(ctx context.Context, org, ref string) ([]*directory.User, error) // ordered by login
	// GroupsWithCounts lists the org's groups ordered by name, with each
	// one's number of members by group id.
	GroupsWithCounts(ctx context.Context, org string) ([]*directory.Group, map[string]int, error)
	// AddGroupToGroup and RemoveGroupFromGroup put a group in another
	// (nested groups) and take it out, reporting whether that changed
	// anything; a cycle, or a group in itself, is refused.
	AddGroupToGroup(ctx context.Context, org, parentRef, childRef string) (bool, error)
	RemoveGroupFromGroup(ctx context.Context, org, parentRef, childRef string) (bool, error)
	ChildGroups(ctx context.Context, org, ref string) ([]*directory.Group, error)  // directly in it, ordered by name
	ParentGroups(ctx context.Context, org, ref string) ([]*directory.Group, error) // it is directly in, ordered by name

	EnrollTOTP(ctx context.Context, org, ref string) (*directory.Enrollment, error)
	ActivateTOTP(ctx context.Context, org, ref, code string) (*store.Factor, error)
	ResetFactors(ctx context.Context, org, ref string) (int, error)
	Factors(ctx context.Context, org, ref string) ([]*store.Factor, error) // oldest first

	Policies(ctx context.Context, org string) ([]policy.Policy, error)
	// ApplyPolicies applies a file's policies whole or not at all.
	ApplyPolicies(ctx context.Context, org string, ps []policy.Policy, mode directory.PolicyMode) (*directory.PolicyResult, error)
	DeletePolicy(ctx context.Context, org string, kind policy.Kind, name string) error
}

var (
	_ backend = localBackend{}
	_ backend = (*remoteBackend)(nil)
)

// localBackend is a directory opened in this process: *directory.Directory
// as it is, and the one method it lacks.
type localBackend struct{ *directory.Directory }

// GroupsWithCounts reads the org in one transaction.
func (l localBackend) GroupsWithCounts(ctx context.Context, org string) ([]*directory.Group, map[string]int, error) {
	o, err := l.Org(ctx, org)
	if err != nil {
		return nil, nil, err
	}
	od, _, err := l.LoadOrg(ctx, o.ID)
	if err != nil {
		return nil, nil, err
	}
	count := map[string]int{}
	for _, m := range od.Memberships {
		count[m.GroupID]++
	}
	return od.Groups, count, nil
}
