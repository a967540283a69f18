package directory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/policy"
	"github.com/dirgate/dirgate/internal/store"
)

// PolicyMode says what ApplyPolicies may do with a policy of a file.
type PolicyMode int

// Modes of ApplyPolicies.
const (
	PolicyUpsert     PolicyMode = iota // create it or replace the one of that kind and name
	PolicyCreateOnly                   // refuse one that exists
	PolicyUpdateOnly                   // refuse one that does not
	// PolicyByID replaces the policy with the ID (the REST API's PUT): it
	// must exist and keep its kind, and may be renamed.
	PolicyByID
)

// PolicyResult reports what ApplyPolicies did.
type PolicyResult struct {
	Created, Updated, Unchanged []string // "kind/name"
}

// ApplyPolicies writes the given sign-on and password policies into org,
// matching existing ones by kind and name (case-insensitive), or by ID in
// mode PolicyByID; policies the file does not name are kept. In one transaction, so a file applies whole
// or not at all. The org's resulting set must be valid (priorities unique
// per kind), and every group and user the policies name must exist: a
// policy that silently matched nobody would be a security hole.
func (d *Directory) ApplyPolicies(ctx context.Context, org string, ps []policy.Policy, mode PolicyMode) (*PolicyResult, error) {
	if len(ps) == 0 {
		return nil, invalid("policies", "no policies given")
	}
	if err := policy.ValidateAll(ps); err != nil {
		return nil, invalid("policies", "%v", err)
	}
	res := &PolicyResult{}
	var orgID string
	var events []func()
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		orgID = o.ID
		stored, current, err := loadPolicies(tx, o.ID)
		if err != nil {
			return err
		}
		merged := slices.Clone(current)
		now := d.now().UTC()
		var writes []func() error
		for _, p := range ps {
			label := string(p.Kind) + "/" + p.Name
			i := slices.IndexFunc(merged, func(c policy.Policy) bool {
				if mode == PolicyByID {
					return c.ID == p.ID
				}
				return c.Kind == p.Kind && foldKey(c.Name) == foldKey(p.Name)
			})
			if i >= 0 && merged[i].Kind != p.Kind {
				return invalid("type", "policy %s is a %s policy; its type cannot change", p.ID, merged[i].Kind)
			}
			switch {
			case i < 0 && mode == PolicyByID:
				return errf(CodeNotFound, "no policy %s in org %s", p.ID, o.Name)
			case i < 0 && mode == PolicyUpdateOnly:
				return errf(CodeNotFound, "no %s policy named %q in org %s", p.Kind, p.Name, o.Name)
			case i >= 0 && mode == PolicyCreateOnly:
				return errf(CodeConflict, "a %s policy named %q already exists in org %s (use update or apply)", p.Kind, p.Name, o.Name)
			}
			if i < 0 {
				p.ID = newID(prefixPolicy)
				rec := &store.Policy{ID: p.ID, OrgID: o.ID, Created: now}
				merged = append(merged, p)
				writes = append(writes, func() error { return putPolicy(tx, rec, p, now, true) })
				events = append(events, func() { d.auditWrite(ctx, nil, orgID, EventPolicyCreate, policyTarget(p)) })
				res.Created = append(res.Created, label)
				continue
			}
			p.ID = merged[i].ID
			if same, _ := samePolicy(merged[i], p); same {
				res.Unchanged = append(res.Unchanged, label)
				continue
			}
			merged[i] = p
			rec := stored[p.ID]
			writes = append(writes, func() error { return putPolicy(tx, rec, p, now, false) })
			events = append(events, func() { d.auditWrite(ctx, nil, orgID, EventPolicyUpdate, policyTarget(p)) })
			res.Updated = append(res.Updated, label)
		}
		if err := policy.ValidateAll(merged); err != nil {
			return invalid("policies", "the org's policies would not be valid: %v", err)
		}
		if _, err := policy.Compile(merged, txResolver{tx, o.ID}); err != nil {
			var ue *policy.UnresolvedError
			if errors.As(err, &ue) {
				return invalid("policies", "%v (create them first, or fix the names)", ue)
			}
			return invalid("policies", "%v", err)
		}
		for _, w := range writes {
			if err := w(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	for _, emit := range events { // only once the transaction committed
		emit()
	}
	return res, nil
}

func policyTarget(p policy.Policy) LogTarget {
	return LogTarget{ID: p.ID, Type: "PolicyEntity", AlternateID: string(p.Kind), DisplayName: p.Name}
}

// Policies returns the org's policies ordered by kind (password, then
// sign-on), then priority.
func (d *Directory) Policies(ctx context.Context, org string) ([]policy.Policy, error) {
	var out []policy.Policy
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		_, out, err = loadPolicies(r, o.ID)
		return err
	})
	return out, storeErr(err)
}

// DeletePolicy deletes the org's policy of the kind with the name.
func (d *Directory) DeletePolicy(ctx context.Context, org string, kind policy.Kind, name string) error {
	var gone policy.Policy
	var orgID string
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		_, current, err := loadPolicies(tx, o.ID)
		if err != nil {
			return err
		}
		for _, p := range current {
			if p.Kind == kind && foldKey(p.Name) == foldKey(name) {
				gone, orgID = p, o.ID
				return tx.DeletePolicy(p.ID)
			}
		}
		return errf(CodeNotFound, "no %s policy named %q in org %s", kind, name, o.Name)
	})
	d.auditWrite(ctx, err, orgID, EventPolicyDelete, policyTarget(gone))
	return storeErr(err)
}

// CompilePolicies returns the org's policies compiled for evaluation.
// Names that no longer resolve (a group deleted since) include or exclude
// nobody; the error then says which, and the set is still usable.
func (d *Directory) CompilePolicies(ctx context.Context, orgID string) (*policy.Set, error) {
	var set *policy.Set
	var unresolved error
	err := d.st.View(ctx, func(r store.Reader) error {
		_, ps, err := loadPolicies(r, orgID)
		if err != nil {
			return err
		}
		set, err = policy.Compile(ps, txResolver{r, orgID})
		var ue *policy.UnresolvedError
		if errors.As(err, &ue) {
			unresolved, err = err, nil
		}
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return set, unresolved
}

// loadPolicies reads and decodes the org's stored policies.
func loadPolicies(r store.Reader, orgID string) (map[string]*store.Policy, []policy.Policy, error) {
	recs, err := r.Policies(orgID)
	if err != nil {
		return nil, nil, err
	}
	return decodePolicies(recs)
}

// decodePolicies decodes stored policies, by id and in order.
func decodePolicies(recs []*store.Policy) (map[string]*store.Policy, []policy.Policy, error) {
	byID := make(map[string]*store.Policy, len(recs))
	out := make([]policy.Policy, 0, len(recs))
	for _, rec := range recs {
		ps, err := policy.Parse(rec.Doc)
		if err != nil || len(ps) != 1 {
			return nil, nil, fmt.Errorf("directory: stored policy %s does not decode: %v", rec.ID, err)
		}
		ps[0].ID = rec.ID
		byID[rec.ID] = rec
		out = append(out, ps[0])
	}
	return byID, out, nil
}

func putPolicy(tx store.Tx, rec *store.Policy, p policy.Policy, now time.Time, create bool) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return err
	}
	rec.Kind, rec.Name, rec.NameKey, rec.Priority, rec.Doc, rec.LastUpdated = string(p.Kind), p.Name, foldKey(p.Name), p.Priority, doc, now
	if create {
		err = tx.CreatePolicy(rec)
	} else {
		err = tx.UpdatePolicy(rec)
	}
	if errors.Is(err, store.ErrConflict) {
		return errf(CodeConflict, "a %s policy named %q already exists", p.Kind, p.Name)
	}
	return err
}

// samePolicy reports whether two policies encode alike (ids aside).
func samePolicy(a, b policy.Policy) (bool, error) {
	a.ID, b.ID = "", ""
	x, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	y, err := json.Marshal(b)
	return string(x) == string(y), err
}

// txResolver resolves the names policies use against the org: groups by
// name or id, users by login or id.
type txResolver struct {
	r     store.Reader
	orgID string
}

func (t txResolver) GroupID(s string) (string, bool) {
	if looksLikeID(s, prefixGroup) {
		if g, err := t.r.Group(s); err == nil && g.OrgID == t.orgID {
			return g.ID, true
		}
	}
	g, err := t.r.GroupByName(t.orgID, foldKey(strings.TrimSpace(s)))
	if err != nil {
		return "", false
	}
	return g.ID, true
}

func (t txResolver) UserID(s string) (string, bool) {
	if looksLikeID(s, prefixUser) {
		if u, err := t.r.User(s); err == nil && u.OrgID == t.orgID {
			return u.ID, true
		}
	}
	u, err := t.r.UserByLogin(t.orgID, foldKey(strings.TrimSpace(s)))
	if err != nil {
		return "", false
	}
	return u.ID, true
}
