package main

// --server: the user, group and factor commands acting on a running
// server through its REST API (package apiclient) instead of opening the
// data directory. remoteBackend implements backend with the REST API's
// calls; where one directory method is several calls, it makes them in
// the order the directory checks things, so that a failure is the same
// failure, with the same message, as on --data.

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/apiclient"
	"github.com/dirgate/dirgate/internal/config"
	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/totp"
	"github.com/dirgate/dirgate/internal/version"
)

// envToken gives the API token for --server. A token is read only from
// the environment or a file (--token-file): on a command line it would be
// in the shell's history and in every local user's view of ps.
const envToken = config.EnvPrefix + "TOKEN"

// maxTokenFile bounds what is read of --token-file.
const maxTokenFile = 4096

// remoteWorkers bounds the calls made at once for one command (a user
// list asks for each user's roles).
const remoteWorkers = 8

// qrSize is the size of an enrolment's QR code, as the directory draws it.
const qrSize = 320

// remotePasswordSet stands in a remote user's PasswordHash when the user
// has a password: the API says only that there is one, and the commands
// read only whether PasswordHash is empty.
const remotePasswordSet = "(set: the REST API shows no credential)"

// requireTarget is the part of the PersistentPreRunE for the commands
// that take --server: without it --org is required (as on every local
// command); with it --data must not be given on the command line.
// dataOnCommandLine is whether --data was, before the environment and
// the config file were read.
func requireTarget(cmd *cobra.Command, dataOnCommandLine bool) error {
	fl := cmd.Flags().Lookup("server")
	if fl == nil {
		return nil
	}
	if fl.Value.String() == "" {
		return cmd.MarkFlagRequired("org")
	}
	if dataOnCommandLine {
		return usagef("--data and --server both say where to work: give one (with --server the data directory is the server's)")
	}
	return nil
}

// refusedFlag is the usage error of a flag refused on purpose, or nil:
// --token, which the issue asked for, would put the token in the shell's
// history and in ps. The token's value is never repeated.
func refusedFlag(cmd *cobra.Command, err error) error {
	if cmd.Flags().Lookup("server") != nil && err.Error() == "unknown flag: --token" {
		return usagef("--token is refused: a token on the command line is kept in the shell's history and shown by ps to every local user; " +
			"give it in " + envToken + " or in a file named by --token-file")
	}
	return nil
}

// apiToken reads the token for --server: DIRGATE_TOKEN or --token-file.
func (a *app) apiToken(t *target) (string, error) {
	env, inEnv := a.lookupEnv(envToken)
	env = strings.TrimSpace(env)
	switch {
	case env != "" && t.tokenFile != "":
		return "", usagef("%s and --token-file both give the API token; use one", envToken)
	case t.tokenFile != "":
		return readTokenFile(t.tokenFile)
	case env != "":
		return env, nil
	case inEnv:
		return "", usagef("%s is empty", envToken)
	}
	return "", usagef("--server needs an API token: put it in %s or in a file named by --token-file (create one with 'dirgate token create')", envToken)
}

// readTokenFile reads a token file, refusing one that others may read.
// Its content is never quoted.
func readTokenFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("--token-file %s is mode %04o: it holds an API token, so group and other must have no access (chmod 600 %s)",
			path, fi.Mode().Perm(), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	defer clear(b)
	if len(b) > maxTokenFile {
		return "", fmt.Errorf("--token-file %s is larger than %d bytes: it is not an API token", path, maxTokenFile)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--token-file %s is empty", path)
	}
	return tok, nil
}

// remoteBackend is a running server, through its REST API.
type remoteBackend struct {
	c *apiclient.Client
}

// openRemote makes the client of t and, when --org is given, checks that
// it names the token's org.
func (a *app) openRemote(t *target) (*remoteBackend, error) {
	tok, err := a.apiToken(t)
	if err != nil {
		return nil, err
	}
	opts := []apiclient.Option{apiclient.WithUserAgent("dirgate/" + version.Version)}
	if t.caFile != "" {
		opts = append(opts, apiclient.WithCAFile(t.caFile))
	}
	c, err := apiclient.New(t.server, tok, nil, opts...)
	if err != nil {
		return nil, &usageError{"--server: " + err.Error()}
	}
	b := &remoteBackend{c: c}
	if t.org != "" {
		org, err := c.OrgName(a.ctx)
		if err != nil {
			return nil, err
		}
		if strings.ToLower(t.org) != org {
			return nil, fmt.Errorf("--org %s: the API token acts in org %s, and with --server the org is the token's (leave out --org, or give %s)", t.org, org, org)
		}
	}
	return b, nil
}

// remoteError makes the failures only a remote call has read well: a
// refused token, an unknown CA.
func remoteError(err error) error {
	if err == nil {
		return nil
	}
	if apiclient.IsStatus(err, 401) {
		said := directory.MsgInvalidToken
		if de := (*directory.Error)(nil); errors.As(err, &de) && de.Message != "" {
			said = de.Message
		}
		return &directory.Error{Code: directory.CodeInvalidCredentials, Err: err,
			Message: "the server refused the API token (" + said + "): check " + envToken + " or --token-file, and that the token is not revoked and its admin is ACTIVE"}
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return fmt.Errorf("%w (give the CA that signed the server's certificate with --ca-file, such as DIR/tls/ca.pem)", err)
	}
	return err
}

// --- conversions: the API's objects as the directory's

func userOf(u *apiclient.User, roles []string) *directory.User {
	out := &directory.User{ID: u.ID, Status: u.Status, Type: u.Type, Roles: roles,
		Created: u.Created, Activated: u.Activated, StatusChanged: u.StatusChanged, LastLogin: u.LastLogin,
		LastUpdated: u.LastUpdated, PasswordChanged: u.PasswordChanged}
	for k, v := range u.Profile {
		directory.SetProfileValue(&out.Profile, k, v)
	}
	out.LoginKey = strings.ToLower(out.Profile.Login) // the directory's fold, for ordering
	if u.HasPassword {
		out.PasswordHash = remotePasswordSet
	}
	return out
}

func groupOf(g *apiclient.Group) *directory.Group {
	return &directory.Group{ID: g.ID, Name: g.Name, NameKey: strings.ToLower(g.Name), Description: g.Description,
		Created: g.Created, LastUpdated: g.LastUpdated, LastMembershipUpdated: g.LastMembershipUpdated}
}

// factorOf: the API does not say when a factor was activated, so
// Activated stays zero (the factor list shows "unknown" for an ACTIVE one).
func factorOf(f *apiclient.Factor) *store.Factor {
	return &store.Factor{ID: f.ID, Type: f.FactorType, Status: f.Status, Created: f.Created, LastUpdated: f.LastUpdated}
}

// profileOf is a profile as the API's flat object (unset attributes left
// out; login always in).
func profileOf(p *directory.Profile) map[string]string {
	out := map[string]string{"login": p.Login}
	for _, name := range directory.BaseProfileAttributes {
		if v, ok := directory.ProfileValue(p, name); ok {
			out[name] = v
		}
	}
	for k, v := range p.Custom {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func sortByLogin(us []*directory.User) {
	slices.SortFunc(us, func(a, b *directory.User) int { return strings.Compare(a.LoginKey, b.LoginKey) })
}

// --- users

func (b *remoteBackend) roles(ctx context.Context, id string) ([]string, error) {
	rs, err := b.c.Roles(ctx, id)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, r := range rs {
		out = append(out, r.Type)
	}
	return out, nil
}

// withRoles converts users, asking for each one's roles (the User object
// does not carry them), remoteWorkers at a time.
func (b *remoteBackend) withRoles(ctx context.Context, us []*apiclient.User) ([]*directory.User, error) {
	out := make([]*directory.User, len(us))
	err := forEach(ctx, len(us), func(ctx context.Context, i int) error {
		roles, err := b.roles(ctx, us[i].ID)
		if err != nil {
			return err
		}
		out[i] = userOf(us[i], roles)
		return nil
	})
	return out, err
}

// forEach runs fn(0..n-1), remoteWorkers at a time, and returns the
// first error (the others stop).
func forEach(ctx context.Context, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, remoteWorkers)
	)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := fn(ctx, i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
				cancel()
			}
		})
	}
	wg.Wait()
	if first == nil {
		return ctx.Err()
	}
	return first
}

// fullUser is a user with its roles.
func (b *remoteBackend) fullUser(ctx context.Context, u *apiclient.User) (*directory.User, error) {
	roles, err := b.roles(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return userOf(u, roles), nil
}

func (b *remoteBackend) User(ctx context.Context, _, ref string) (*directory.User, error) {
	u, err := b.c.User(ctx, ref)
	if err != nil {
		return nil, err
	}
	return b.fullUser(ctx, u)
}

func (b *remoteBackend) Users(ctx context.Context, _ string) ([]*directory.User, error) {
	us, err := b.c.ListUsers(ctx, &apiclient.ListOptions{Limit: 200})
	if err != nil {
		return nil, err
	}
	out, err := b.withRoles(ctx, us)
	if err != nil {
		return nil, err
	}
	sortByLogin(out)
	return out, nil
}

func (b *remoteBackend) UserGroups(ctx context.Context, _, ref string) ([]*directory.Group, error) {
	gs, err := b.c.UserGroups(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]*directory.Group, len(gs))
	for i, g := range gs {
		out[i] = groupOf(g)
	}
	return out, nil
}

// CreateUser creates the user, then gives it its roles: the API's user
// creation takes none, and roles are the SUPER_ADMIN's to give. If a role
// is refused the user is removed again (deactivated and deleted), so that
// as on --data a failed create leaves no user.
func (b *remoteBackend) CreateUser(ctx context.Context, _ string, in directory.UserInput) (*directory.User, error) {
	if in.PasswordHash != "" {
		return nil, errors.New("the REST API takes passwords, not password hashes")
	}
	nu := apiclient.NewUser{Profile: profileOf(&in.Profile), Staged: strings.EqualFold(in.Status, directory.StatusStaged),
		ServiceAccount: in.ServiceAccount}
	if len(in.Password) > 0 {
		nu.Password = in.Password
	}
	u, err := b.c.CreateUser(ctx, nu)
	if err != nil {
		return nil, err
	}
	if len(in.Roles) == 0 {
		return userOf(u, nil), nil
	}
	for _, r := range in.Roles {
		if _, err := b.c.AssignRole(ctx, u.ID, r); err != nil {
			return nil, b.undoCreate(ctx, u, err)
		}
	}
	return b.User(ctx, "", u.ID)
}

// undoCreate removes a user just created whose role was refused (cause).
func (b *remoteBackend) undoCreate(ctx context.Context, u *apiclient.User, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := b.c.DeleteUser(ctx, u.ID) // deactivates
	if err == nil {
		err = b.c.DeleteUser(ctx, u.ID) // deletes
	}
	if err == nil {
		return cause
	}
	var de *directory.Error
	if !errors.As(cause, &de) {
		de = &directory.Error{Code: directory.CodeInternal, Message: cause.Error()}
	}
	return &directory.Error{Code: de.Code, Field: de.Field, Err: cause,
		Message: de.Message + "; user " + u.Login() + " (" + u.ID + ") was created without its roles and could not be removed: " + message(err)}
}

func (b *remoteBackend) SetPassword(ctx context.Context, _, ref string, pw []byte) (*directory.User, error) {
	u, err := b.c.SetPassword(ctx, ref, pw)
	if err != nil {
		return nil, err
	}
	return b.fullUser(ctx, u)
}

func (b *remoteBackend) PatchProfile(ctx context.Context, _, ref string, set map[string]string) (*directory.User, error) {
	u, err := b.c.UpdateProfile(ctx, ref, set)
	if err != nil {
		return nil, err
	}
	return b.fullUser(ctx, u)
}

func (b *remoteBackend) Lifecycle(ctx context.Context, _, ref string, a directory.Action) (*directory.User, error) {
	if err := b.c.Lifecycle(ctx, ref, string(a)); err != nil {
		return nil, err
	}
	return b.User(ctx, "", ref)
}

// DeleteUser keeps the directory's rule: only a DEPROVISIONED user is
// deleted, any other is refused (the API's DELETE would deactivate it).
// If the user's status changed between the check and the DELETE, the
// server deactivated instead of deleting, which is reported.
func (b *remoteBackend) DeleteUser(ctx context.Context, _, ref string) error {
	u, err := b.c.User(ctx, ref)
	if err != nil {
		return err
	}
	if u.Status != directory.StatusDeprovisioned {
		// directory.DeleteUser's words.
		return &directory.Error{Code: directory.CodeIllegalTransition,
			Message: fmt.Sprintf("cannot delete user %s: the user is %s; deactivate it first (only DEPROVISIONED users can be deleted)", u.Login(), u.Status)}
	}
	if err := b.c.DeleteUser(ctx, u.ID); err != nil {
		return err
	}
	after, err := b.c.User(ctx, u.ID)
	switch {
	case directory.CodeOf(err) == directory.CodeNotFound:
		return nil
	case err != nil:
		return err
	}
	return &directory.Error{Code: directory.CodeConflict,
		Message: fmt.Sprintf("user %s was not deleted: its status changed while deleting it, so the server deactivated it instead (it is %s now); delete it again", u.Login(), after.Status)}
}

func (b *remoteBackend) AssignRole(ctx context.Context, _, ref, role string) (*directory.User, error) {
	if _, err := b.c.AssignRole(ctx, ref, role); err != nil {
		return nil, err
	}
	return b.User(ctx, "", ref)
}

func (b *remoteBackend) RemoveRole(ctx context.Context, _, ref, role string) (*directory.User, error) {
	if err := b.c.RemoveRole(ctx, ref, role); err != nil {
		return nil, err
	}
	return b.User(ctx, "", ref)
}

// --- groups

func (b *remoteBackend) CreateGroup(ctx context.Context, _ string, in directory.GroupInput) (*directory.Group, error) {
	g, err := b.c.CreateGroup(ctx, in.Name, in.Description)
	if err != nil {
		return nil, err
	}
	return groupOf(g), nil
}

func (b *remoteBackend) DeleteGroup(ctx context.Context, _, ref string) error {
	return b.c.DeleteGroup(ctx, ref)
}

func (b *remoteBackend) AddMember(ctx context.Context, _, groupRef, userRef string) (bool, error) {
	return b.membership(ctx, groupRef, userRef, true)
}

func (b *remoteBackend) RemoveMember(ctx context.Context, _, groupRef, userRef string) (bool, error) {
	return b.membership(ctx, groupRef, userRef, false)
}

// membership adds or removes a user.
func (b *remoteBackend) membership(ctx context.Context, groupRef, userRef string, add bool) (bool, error) {
	return b.toggle(ctx, groupRef, userRef, add, b.c.UserGroups, b.c.AddGroupMember, b.c.RemoveGroupMember)
}

// toggle puts a member (a user, or a group) in a group or takes it out.
// The API's answer (204) does not say whether anything changed, so the
// groups the member is in (groupsOf) are read first. The group is looked
// up before the member, as the directory does; the rest (a cycle, say) is
// the server's to refuse.
func (b *remoteBackend) toggle(ctx context.Context, groupRef, memberRef string, add bool,
	groupsOf func(context.Context, string) ([]*apiclient.Group, error), put, take func(context.Context, string, string) error) (bool, error) {
	g, err := b.c.Group(ctx, groupRef)
	if err != nil {
		return false, err
	}
	gs, err := groupsOf(ctx, memberRef)
	if err != nil {
		return false, err
	}
	in := slices.ContainsFunc(gs, func(x *apiclient.Group) bool { return x.ID == g.ID })
	switch {
	case add && !in:
		err = put(ctx, g.ID, memberRef)
	case !add && in:
		err = take(ctx, g.ID, memberRef)
	default:
		return false, nil
	}
	return err == nil, err
}

func (b *remoteBackend) GroupMembers(ctx context.Context, _, ref string) ([]*directory.User, error) {
	us, err := b.c.GroupMembers(ctx, ref, 1000)
	if err != nil {
		return nil, err
	}
	out, err := b.withRoles(ctx, us)
	if err != nil {
		return nil, err
	}
	sortByLogin(out)
	return out, nil
}

// GroupsWithCounts counts each group's members by listing them (the API
// has no member count).
func (b *remoteBackend) GroupsWithCounts(ctx context.Context, _ string) ([]*directory.Group, map[string]int, error) {
	gs, err := b.c.ListGroups(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	counts := make([]int, len(gs))
	err = forEach(ctx, len(gs), func(ctx context.Context, i int) error {
		us, err := b.c.GroupMembers(ctx, gs[i].ID, 10000)
		counts[i] = len(us)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([]*directory.Group, len(gs))
	count := make(map[string]int, len(gs))
	for i, g := range gs {
		out[i] = groupOf(g)
		count[g.ID] = counts[i]
	}
	slices.SortFunc(out, func(a, b *directory.Group) int { return strings.Compare(a.NameKey, b.NameKey) })
	return out, count, nil
}

// --- nested groups (the API's /api/dirgate/v1/groups)

func (b *remoteBackend) AddGroupToGroup(ctx context.Context, _, parentRef, childRef string) (bool, error) {
	return b.groupLink(ctx, parentRef, childRef, true)
}

func (b *remoteBackend) RemoveGroupFromGroup(ctx context.Context, _, parentRef, childRef string) (bool, error) {
	return b.groupLink(ctx, parentRef, childRef, false)
}

// groupLink puts a group in another or takes it out.
func (b *remoteBackend) groupLink(ctx context.Context, parentRef, childRef string, add bool) (bool, error) {
	return b.toggle(ctx, parentRef, childRef, add, b.c.ParentGroups, b.c.AddGroupToGroup, b.c.RemoveGroupFromGroup)
}

func (b *remoteBackend) ChildGroups(ctx context.Context, _, ref string) ([]*directory.Group, error) {
	return groupsOf(b.c.ChildGroups(ctx, ref))
}

func (b *remoteBackend) ParentGroups(ctx context.Context, _, ref string) ([]*directory.Group, error) {
	return groupsOf(b.c.ParentGroups(ctx, ref))
}

// groupsOf converts a list of the API's groups, in its order.
func groupsOf(gs []*apiclient.Group, err error) ([]*directory.Group, error) {
	if err != nil {
		return nil, err
	}
	out := make([]*directory.Group, len(gs))
	for i, g := range gs {
		out[i] = groupOf(g)
	}
	return out, nil
}

// --- factors

func (b *remoteBackend) Factors(ctx context.Context, _, ref string) ([]*store.Factor, error) {
	fs, err := b.c.Factors(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := make([]*store.Factor, len(fs))
	for i, f := range fs {
		out[i] = factorOf(f)
	}
	return out, nil
}

func (b *remoteBackend) EnrollTOTP(ctx context.Context, _, ref string) (*directory.Enrollment, error) {
	e, err := b.c.EnrollTOTP(ctx, ref)
	if err != nil {
		return nil, err
	}
	uri := e.URI
	return &directory.Enrollment{Factor: factorOf(&e.Factor), Secret: e.SharedSecret, URI: uri,
		QRPNG: func() ([]byte, error) { return totp.QRCodePNG(uri, qrSize) }}, nil
}

// ActivateTOTP finds the user's pending TOTP factor (the API activates a
// factor by id) and refuses as directory.ActivateTOTP does when there is
// none, or an active one.
func (b *remoteBackend) ActivateTOTP(ctx context.Context, _, ref, code string) (*store.Factor, error) {
	u, err := b.c.User(ctx, ref)
	if err != nil {
		return nil, err
	}
	fs, err := b.c.Factors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var pending *apiclient.Factor
	for _, f := range fs {
		if f.FactorType != apiclient.FactorTOTP {
			continue
		}
		switch f.Status {
		case store.FactorActive: // directory.ActivateTOTP's words
			return nil, &directory.Error{Code: directory.CodeConflict, Message: "the TOTP factor of user " + u.Login() + " is already active"}
		case store.FactorPendingActivation:
			pending = f
		}
	}
	if pending == nil {
		return nil, &directory.Error{Code: directory.CodeNotFound,
			Message: "user " + u.Login() + " has no TOTP factor waiting for activation; enrol one first"}
	}
	f, err := b.c.ActivateFactor(ctx, u.ID, pending.ID, code)
	if err != nil {
		return nil, err
	}
	return factorOf(f), nil
}

// ResetFactors counts the factors before deleting them (the API's answer
// has no count).
func (b *remoteBackend) ResetFactors(ctx context.Context, _, ref string) (int, error) {
	fs, err := b.c.Factors(ctx, ref)
	if err != nil {
		return 0, err
	}
	if err := b.c.ResetFactors(ctx, ref); err != nil {
		return 0, err
	}
	return len(fs), nil
}

// --- policies, in their document format (the API's /api/dirgate/v1/policies)

func (b *remoteBackend) Policies(ctx context.Context, _ string) ([]policy.Policy, error) {
	return b.c.Policies(ctx)
}

// policyModeNames are the API's names of the apply modes.
var policyModeNames = map[directory.PolicyMode]string{
	directory.PolicyUpsert: "upsert", directory.PolicyCreateOnly: "create", directory.PolicyUpdateOnly: "update",
}

func (b *remoteBackend) ApplyPolicies(ctx context.Context, _ string, ps []policy.Policy, mode directory.PolicyMode) (*directory.PolicyResult, error) {
	name, ok := policyModeNames[mode]
	if !ok {
		return nil, fmt.Errorf("policy mode %d has no name in the API", mode)
	}
	res, err := b.c.ApplyPolicies(ctx, ps, name)
	if err != nil {
		return nil, err
	}
	return &directory.PolicyResult{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged}, nil
}

func (b *remoteBackend) DeletePolicy(ctx context.Context, _ string, kind policy.Kind, name string) error {
	return b.c.DeletePolicy(ctx, kind, name)
}
