package storecopy

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"slices"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// The kinds of record a Summary counts, in its order.
const (
	KindOrgs          = "orgs"
	KindUsers         = "users"
	KindGroups        = "groups"
	KindMemberships   = "memberships"
	KindGroupLinks    = "group-links"
	KindPOSIXCounters = "posix-next" // the orgs' POSIX counters (Reader.POSIXCounter): the next numbers
	KindFactors       = "factors"
	KindPolicies      = "policies"
	KindTokens        = "tokens"
	KindIntegrations  = "integrations"
	KindSyncUsers     = "sync-users"
	KindSyncGroups    = "sync-groups"
	KindEvents        = "events"
)

// Kinds lists every kind of record, in a Summary's order.
var Kinds = []string{KindOrgs, KindUsers, KindGroups, KindMemberships, KindGroupLinks, KindPOSIXCounters, KindFactors,
	KindPolicies, KindTokens, KindIntegrations, KindSyncUsers, KindSyncGroups, KindEvents}

// Summary is how many records of each kind a store holds and a SHA-256
// of them, for comparing two stores.
type Summary struct {
	Kinds []KindSummary `json:"kinds"`
	// SHA256 covers every kind's count and checksum.
	SHA256 string `json:"sha256"`
}

// KindSummary is one kind's count and checksum.
type KindSummary struct {
	Kind   string `json:"kind"`
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
}

// Kind returns the summary of kind k (zero if s has none).
func (s *Summary) Kind(k string) KindSummary {
	for _, ks := range s.Kinds {
		if ks.Kind == k {
			return ks
		}
	}
	return KindSummary{Kind: k}
}

// Diff returns the kinds whose count or checksum differ between s and o.
func (s *Summary) Diff(o *Summary) []string {
	var out []string
	for _, k := range Kinds {
		if s.Kind(k) != o.Kind(k) {
			out = append(out, k)
		}
	}
	return out
}

// Checksum summarises the store: per kind of record, the count and a
// SHA-256 over a canonical serialisation of every record, so that two
// stores holding the same installation (one copied from the other, by
// any backend) have equal summaries, and any difference in any field
// shows. The serialisation:
//
//   - One JSON object per record and line, its fields in a fixed order,
//     records sorted by id (memberships by group then user, group links
//     by parent then child, POSIX counters by org then kind, integration
//     links by integration then external id). Events are the exception:
//     they are
//     taken org by org (orgs sorted by id), in Seq order within an org,
//     which the copy keeps (and so proves); that keeps a large log out of
//     memory.
//   - Left out is only what a copy legitimately changes: an event's Seq
//     (handed out by the target). Times are UTC, cut to the microsecond
//     (PostgreSQL keeps no finer), the zero time "". Lists, maps and
//     documents that are empty count as absent (backends may return
//     either), except an org's SelfServiceAttributes, where nil (the
//     default set) and empty (none) differ.
//
// Events are those of no org, of every org and of every deleted org the
// change feed names. The records are read in one View; the events after
// it: a store written to meanwhile may give a summary of no single
// moment.
func Checksum(ctx context.Context, s store.Store) (*Summary, error) {
	snap, err := readSnapshot(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("storecopy: checksum: %w", err)
	}
	sum := &Summary{}
	add := func(k KindSummary) { sum.Kinds = append(sum.Kinds, k) }
	add(hashSorted(KindOrgs, snap.orgs, func(o *store.Org) string { return o.ID }, canonOrg))
	add(hashSorted(KindUsers, snap.users, func(u *store.User) string { return u.ID }, canonUser))
	add(hashSorted(KindGroups, snap.groups, func(g *store.Group) string { return g.ID }, canonGroup))
	add(hashSorted(KindMemberships, snap.memberships, func(m store.Membership) string { return m.GroupID + "\x00" + m.UserID },
		func(m store.Membership) any { return [2]string{m.GroupID, m.UserID} }))
	add(hashSorted(KindGroupLinks, snap.groupLinks, func(l store.GroupLink) string { return l.ParentID + "\x00" + l.ChildID },
		func(l store.GroupLink) any { return [2]string{l.ParentID, l.ChildID} }))
	add(hashSorted(KindPOSIXCounters, snap.posixCounters, func(c posixCounter) string { return c.OrgID + "\x00" + c.Kind },
		func(c posixCounter) any { return c }))
	add(hashSorted(KindFactors, snap.factors, func(f *store.Factor) string { return f.ID }, canonFactor))
	add(hashSorted(KindPolicies, snap.policies, func(p *store.Policy) string { return p.ID }, canonPolicy))
	add(hashSorted(KindTokens, snap.tokens, func(t *store.Token) string { return t.ID }, canonToken))
	add(hashSorted(KindIntegrations, snap.integrations, func(in *store.Integration) string { return in.ID }, canonIntegration))
	add(hashSorted(KindSyncUsers, snap.syncUsers, linkKey, canonLink))
	add(hashSorted(KindSyncGroups, snap.syncGroups, linkKey, canonLink))

	orgs, _, err := eventOrgIDs(ctx, s, snap.orgs)
	if err != nil {
		return nil, fmt.Errorf("storecopy: checksum: %w", err)
	}
	h, n := sha256.New(), 0
	for _, org := range orgs {
		for after := int64(0); ; {
			evs, err := s.Events(ctx, store.EventQuery{OrgID: org, AfterSeq: after, Limit: eventBatch})
			if err != nil {
				return nil, fmt.Errorf("storecopy: checksum: events of org %q: %w", org, err)
			}
			if len(evs) == 0 {
				break
			}
			after = evs[len(evs)-1].Seq
			for _, e := range evs {
				line(h, canonEvent(e))
			}
			n += len(evs)
		}
	}
	add(summarise(KindEvents, n, h))

	all := sha256.New()
	for _, k := range sum.Kinds {
		fmt.Fprintf(all, "%s %d %s\n", k.Kind, k.Count, k.SHA256)
	}
	sum.SHA256 = hex.EncodeToString(all.Sum(nil))
	return sum, nil
}

// hashSorted summarises the records of a kind: their number and the hash
// of their canonical forms, sorted by key.
func hashSorted[T any](kind string, recs []T, key func(T) string, canon func(T) any) KindSummary {
	sorted := slices.Clone(recs)
	slices.SortFunc(sorted, func(a, b T) int { return cmp.Compare(key(a), key(b)) })
	h := sha256.New()
	for _, r := range sorted {
		line(h, canon(r))
	}
	return summarise(kind, len(sorted), h)
}

func summarise(kind string, n int, h hash.Hash) KindSummary {
	return KindSummary{Kind: kind, Count: n, SHA256: hex.EncodeToString(h.Sum(nil))}
}

// line writes v as one line of JSON. The canonical forms hold only
// strings, numbers, bools, string maps and slices, which always encode.
func line(h hash.Hash, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b) // ends each value with a newline
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("storecopy: canonical form: " + err.Error())
	}
	h.Write(b.Bytes())
}

// --- canonical forms: fixed field order, normalised values.

// ts is a time as the checksum compares it.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

// list is a list where empty and nil are alike.
func list(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

// doc is a document where empty and nil are alike.
func doc(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func canonOrg(o *store.Org) any {
	return struct {
		ID, Name, Suffix, Created string
		CustomAttributes          []string
		MFASeparator              string
		SelfServiceAttributes     []string // nil and empty differ
		LDAP                      store.LDAPSettings
	}{o.ID, o.Name, o.Suffix, ts(o.Created), list(o.CustomAttributes), o.MFASeparator, o.SelfServiceAttributes, o.LDAP}
}

func canonUser(u *store.User) any {
	p := u.Profile
	custom := p.Custom
	if len(custom) == 0 {
		custom = nil
	}
	return struct {
		ID, OrgID, Status, Type, LoginKey                                  string
		Login, Email, FirstName, LastName, DisplayName, NickName, Title    string
		Department, Organization, MobilePhone, PrimaryPhone                string
		Custom                                                             map[string]string
		PasswordHash                                                       string
		Roles                                                              []string
		Created, Activated, StatusChanged, LastLogin, LastUpdated, PwdChgd string
		FailedLogins                                                       int
		LastFailedLogin                                                    string
		PasswordHistory                                                    []string
		UIDNumber                                                          int64
	}{
		u.ID, u.OrgID, u.Status, u.Type, u.LoginKey,
		p.Login, p.Email, p.FirstName, p.LastName, p.DisplayName, p.NickName, p.Title,
		p.Department, p.Organization, p.MobilePhone, p.PrimaryPhone,
		custom,
		u.PasswordHash,
		list(u.Roles),
		ts(u.Created), ts(u.Activated), ts(u.StatusChanged), ts(u.LastLogin), ts(u.LastUpdated), ts(u.PasswordChanged),
		u.FailedLogins,
		ts(u.LastFailedLogin),
		list(u.PasswordHistory),
		u.UIDNumber,
	}
}

func canonGroup(g *store.Group) any {
	return struct {
		ID, OrgID, NameKey, Name, Description       string
		Created, LastUpdated, LastMembershipUpdated string
		GIDNumber                                   int64
	}{g.ID, g.OrgID, g.NameKey, g.Name, g.Description, ts(g.Created), ts(g.LastUpdated), ts(g.LastMembershipUpdated), g.GIDNumber}
}

func canonFactor(f *store.Factor) any {
	return struct {
		ID, OrgID, UserID, Type, Status, Secret string
		LastStep                                int64
		Created, Activated, LastUpdated         string
	}{f.ID, f.OrgID, f.UserID, f.Type, f.Status, f.Secret, f.LastStep, ts(f.Created), ts(f.Activated), ts(f.LastUpdated)}
}

func canonPolicy(p *store.Policy) any {
	return struct {
		ID, OrgID, Kind, Name, NameKey string
		Priority                       int
		Doc                            []byte
		Created, LastUpdated           string
	}{p.ID, p.OrgID, p.Kind, p.Name, p.NameKey, p.Priority, doc(p.Doc), ts(p.Created), ts(p.LastUpdated)}
}

func canonToken(t *store.Token) any {
	return struct {
		ID, OrgID, UserID, Name, Hash, Created, LastUsed string
	}{t.ID, t.OrgID, t.UserID, t.Name, t.Hash, ts(t.Created), ts(t.LastUsed)}
}

func canonIntegration(in *store.Integration) any {
	return struct {
		ID, OrgID, Name, NameKey, Kind string
		Default                        bool
		Settings                       []byte
		Owned                          []string
		Secret                         string
		State                          []byte
		Created, LastUpdated           string
	}{in.ID, in.OrgID, in.Name, in.NameKey, in.Kind, in.Default, doc(in.Settings), list(in.Owned), in.Secret, doc(in.State),
		ts(in.Created), ts(in.LastUpdated)}
}

func linkKey(l store.SyncLink) string { return l.IntegrationID + "\x00" + l.ExternalID }

func canonLink(l store.SyncLink) any { return [3]string{l.IntegrationID, l.ExternalID, l.LocalID} }

// canonEvent leaves out Seq, which the target hands out anew.
func canonEvent(e *store.Event) any {
	return struct {
		UUID, Published, OrgID, EventType, Outcome, ActorID, TargetID string
		Doc                                                           []byte
	}{e.UUID, ts(e.Published), e.OrgID, e.EventType, e.Outcome, e.ActorID, e.TargetID, doc(e.Doc)}
}
