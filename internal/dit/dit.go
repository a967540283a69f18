// Package dit is the LDAP view of the directory: an immutable snapshot of
// every org's entries (Okta's LDAP interface layout, DESIGN.md), their
// indexes and pre-encoded attributes, the access rules, the RootDSE and
// cn=schema. It implements ldapserver.Backend.
//
// Searches and compares read the current snapshot with one atomic load and
// never call the directory. Binds resolve the DN in the snapshot and then
// call Source.Authenticate. Run follows the directory's change feed and
// swaps in a new snapshot within one poll interval of a change: an org
// whose users, groups or memberships changed is patched from just those
// records (patch.go); one whose org record changed is rebuilt.
package dit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/ldapserver"
	"github.com/dirgate/dirgate/internal/store"
)

// Source is what dit needs of *directory.Directory.
type Source interface {
	Load(ctx context.Context) (*directory.Data, error)
	LoadOrg(ctx context.Context, orgID string) (*directory.OrgData, uint64, error)
	LoadDelta(ctx context.Context, orgID string, userIDs, groupIDs []string) (*directory.Delta, uint64, error)
	Seq(ctx context.Context) (uint64, error)
	ChangesSince(ctx context.Context, seq uint64, limit int) ([]store.Change, error)
	Authenticate(ctx context.Context, req directory.AuthRequest) (*directory.User, error)
	ChangePasswordAs(ctx context.Context, c directory.PasswordChange) (string, error)
}

var _ Source = (*directory.Directory)(nil)

// Options configures a DIT. The zero value is usable.
type Options struct {
	// PollInterval is how often Run looks for changes (default 500 ms).
	PollInterval time.Duration
	// MaxChanges is how many changes one refresh applies org by org;
	// more, and it reloads everything (default 1000).
	MaxChanges int
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// Defaults.
const (
	DefaultPollInterval = 500 * time.Millisecond
	DefaultMaxChanges   = 1000
)

// DIT serves the directory over LDAP. It is safe for concurrent use.
type DIT struct {
	src  Source
	opts Options
	log  *slog.Logger

	snap    atomic.Pointer[snapshot]
	ready   atomic.Bool
	refresh sync.Mutex // one Refresh at a time

	// next is closed when the next snapshot is published (content
	// synchronisations wait on it); made on demand.
	pubMu sync.Mutex
	next  chan struct{}
}

// publish makes s the current snapshot and wakes those waiting for one.
func (d *DIT) publish(s *snapshot) {
	d.snap.Store(s)
	d.pubMu.Lock()
	if d.next != nil {
		close(d.next)
		d.next = nil
	}
	d.pubMu.Unlock()
}

// published is closed when a snapshot after the current one is published.
// Take it before loading the snapshot, so as not to miss one.
func (d *DIT) published() <-chan struct{} {
	d.pubMu.Lock()
	defer d.pubMu.Unlock()
	if d.next == nil {
		d.next = make(chan struct{})
	}
	return d.next
}

var (
	_ ldapserver.Backend          = (*DIT)(nil)
	_ ldapserver.Modifier         = (*DIT)(nil)
	_ ldapserver.ControlSupporter = (*DIT)(nil)
	_ ldapserver.Cursor           = (*cursor)(nil)
)

// New loads the first snapshot from src.
func New(src Source, opts Options) (*DIT, error) {
	if src == nil {
		return nil, errors.New("dit: a Source is required")
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.MaxChanges <= 0 {
		opts.MaxChanges = DefaultMaxChanges
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &DIT{src: src, opts: opts, log: opts.Logger}
	s, err := d.loadAll(context.Background())
	if err != nil {
		return nil, err
	}
	d.snap.Store(s)
	d.ready.Store(true)
	return d, nil
}

// Seq is the change sequence the current snapshot reflects.
func (d *DIT) Seq() uint64 { return d.snap.Load().seq }

// Ready reports whether the snapshot is current: the last refresh (or New)
// succeeded. While the directory cannot be read, LDAP keeps answering
// from the last snapshot, but the node is not ready.
func (d *DIT) Ready() bool { return d.ready.Load() }

// Run refreshes the snapshot every PollInterval until ctx ends, and at
// once when the source says something was committed (a store shared by
// several nodes tells of the others' writes through Wake).
func (d *DIT) Run(ctx context.Context) {
	t := time.NewTicker(d.opts.PollInterval)
	defer t.Stop()
	var wake <-chan struct{}
	if w, ok := d.src.(interface {
		Wake(context.Context) <-chan struct{}
	}); ok {
		wake = w.Wake(ctx)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		if err := d.Refresh(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("dit: refreshing the LDAP snapshot failed; serving the previous one", "seq", d.Seq(), "err", err)
		}
	}
}

// Refresh brings the snapshot up to date once: when the change sequence
// moved, it patches (or rebuilds) the orgs the new changes touched, or
// reloads everything when there are more than MaxChanges or an org
// appeared or disappeared.
func (d *DIT) Refresh(ctx context.Context) error {
	d.refresh.Lock()
	defer d.refresh.Unlock()
	err := d.step(ctx)
	d.ready.Store(err == nil)
	return err
}

// inView reports whether changes of kind k can change what the snapshot
// holds: factors cannot (binds reach them through the directory), nor can
// API tokens or integrations, so they cost a refresh nothing. Policies are
// compiled into the snapshot.
func inView(k store.Kind) bool {
	return k != store.KindFactor && k != store.KindToken && k != store.KindIntegration
}

func (d *DIT) step(ctx context.Context) error {
	cur := d.snap.Load()
	seq, err := d.src.Seq(ctx)
	if err != nil {
		return fmt.Errorf("dit: reading the change sequence: %w", err)
	}
	if seq == cur.seq {
		return nil
	}
	if seq < cur.seq { // the store was replaced or restored
		return d.reload(ctx, "the change sequence went back")
	}
	changes, err := d.src.ChangesSince(ctx, cur.seq, d.opts.MaxChanges+1)
	if err != nil {
		return fmt.Errorf("dit: reading changes since %d: %w", cur.seq, err)
	}
	if len(changes) > d.opts.MaxChanges {
		return d.reload(ctx, "many changes")
	}
	if len(changes) == 0 {
		return nil // not visible yet; the next poll sees them
	}
	var ids []string
	per := map[string]*orgChanges{}
	for _, c := range changes {
		if !inView(c.Kind) {
			continue
		}
		if cur.orgs[c.OrgID] == nil && !cur.broken[c.OrgID] {
			return d.reload(ctx, "a new org")
		}
		oc := per[c.OrgID]
		if oc == nil {
			oc = &orgChanges{}
			per[c.OrgID] = oc
			ids = append(ids, c.OrgID)
		}
		oc.add(c)
	}
	orgs := maps.Clone(cur.orgs)
	broken := maps.Clone(cur.broken)
	start := time.Now()
	patched := 0
	for _, id := range ids {
		if old := cur.orgs[id]; old != nil {
			o, why, err := d.patchOrg(ctx, old, per[id])
			if directory.CodeOf(err) == directory.CodeNotFound {
				return d.reload(ctx, "an org disappeared")
			}
			if err != nil {
				return fmt.Errorf("dit: reading changes of org %s: %w", id, err)
			}
			if o != nil {
				orgs[id] = o
				patched++
				continue
			}
			d.log.Debug("dit: rebuilding an org's view instead of patching it", "org", id, "why", why)
		}
		od, _, err := d.src.LoadOrg(ctx, id)
		if directory.CodeOf(err) == directory.CodeNotFound {
			return d.reload(ctx, "an org disappeared")
		}
		if err != nil {
			return fmt.Errorf("dit: loading org %s: %w", id, err)
		}
		o, err := buildOrg(od, d.log, true)
		if err != nil {
			d.log.Error("dit: an org cannot be served over LDAP", "org", id, "err", err)
			delete(orgs, id)
			broken[id] = true
			continue
		}
		orgs[id] = o
		delete(broken, id)
	}
	// Only what the changes listed is known to be in: a LoadOrg may also
	// have seen later changes, which the next step reads (again).
	next := newSnapshot(changes[len(changes)-1].Seq, orgs, broken)
	d.publish(next)
	d.log.Debug("dit: snapshot refreshed", "seq", next.seq, "changes", len(changes), "orgs", len(ids), "patched", patched, "took", time.Since(start))
	return nil
}

func (d *DIT) reload(ctx context.Context, why string) error {
	s, err := d.loadAll(ctx)
	if err != nil {
		return err
	}
	d.publish(s)
	d.log.Info("dit: snapshot reloaded", "seq", s.seq, "orgs", len(s.orgs), "why", why)
	return nil
}

func (d *DIT) loadAll(ctx context.Context) (*snapshot, error) {
	start := time.Now()
	data, err := d.src.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("dit: loading the directory: %w", err)
	}
	read := time.Now()
	defer func() {
		d.log.Info("dit: snapshot built", "read", read.Sub(start).Round(time.Millisecond),
			"build", time.Since(read).Round(time.Millisecond))
	}()
	orgs := make(map[string]*orgView, len(data.Orgs))
	broken := map[string]bool{}
	for _, od := range data.Orgs {
		o, err := buildOrg(od, d.log, true)
		if err != nil {
			d.log.Error("dit: an org cannot be served over LDAP", "org", od.Org.ID, "err", err)
			broken[od.Org.ID] = true
			continue
		}
		orgs[od.Org.ID] = o
	}
	return newSnapshot(data.Seq, orgs, broken), nil
}

// Bind implements ldapserver.Backend.
func (d *DIT) Bind(ctx context.Context, s *ldapserver.Session, name string, password []byte, controls []ldap.Control) (ldapserver.Identity, error) {
	return d.bind(ctx, name, password, clientInfo(s), wantsPolicy(controls))
}

// SupportsControl implements ldapserver.ControlSupporter: the password
// policy control on binds and password changes, sorting and content
// synchronisation on searches, and ManageDSAit everywhere.
func (d *DIT) SupportsControl(op ldapserver.Op, oid string) bool {
	switch oid {
	case ldap.OIDPasswordPolicy:
		return op == ldapserver.OpBind || op == ldapserver.OpExtended || op == ldapserver.OpModify
	case ldap.OIDSortRequest, ldap.OIDSyncRequest, ldap.OIDVLVRequest:
		return op == ldapserver.OpSearch
	case ldap.OIDManageDSAit: // there are no referrals: nothing to manage differently
		return true
	}
	return false
}

// Search implements ldapserver.Backend.
func (d *DIT) Search(ctx context.Context, s *ldapserver.Session, req *ldap.SearchRequest, controls []ldap.Control) (ldapserver.Cursor, error) {
	if sr, ok, err := syncRequestOf(controls); ok {
		if err != nil {
			return nil, ldapserver.Fail(ldap.ProtocolError, "malformed sync request control (RFC 4533)")
		}
		return d.syncSearch(ctx, identityOf(s), req, controls, sr)
	}
	return d.searchWith(ctx, identityOf(s), req, controls)
}

// searchWith is search honouring the request's controls (sorting).
func (d *DIT) searchWith(ctx context.Context, id *ldapserver.Identity, req *ldap.SearchRequest, controls []ldap.Control) (*cursor, error) {
	c, err := d.search(id, req)
	if err != nil {
		return nil, err
	}
	if len(controls) > 0 {
		vlv := ldap.FindControl(controls, ldap.OIDVLVRequest)
		if sr := parseSort(c.org, controls); sr != nil {
			if err := sr.failure(); err != nil {
				c.Close()
				return nil, err
			}
			c.sort = sr
			if sr.code == ldap.Success {
				if err := c.sortMatches(ctx, sr, vlv != nil); err != nil {
					c.Close()
					return nil, err
				}
			}
		}
		if vlv != nil {
			if err := c.viewList(vlv, controls); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
	return c, nil
}

// Compare implements ldapserver.Backend.
func (d *DIT) Compare(ctx context.Context, s *ldapserver.Session, req *ldap.CompareRequest, _ []ldap.Control) (bool, error) {
	return d.compare(identityOf(s), req)
}

// Extended implements ldapserver.Backend: WhoAmI (RFC 4532) and Password
// Modify (RFC 3062, password.go).
func (d *DIT) Extended(ctx context.Context, s *ldapserver.Session, req *ldap.ExtendedRequest, controls []ldap.Control) (ldap.ExtendedResponse, error) {
	switch req.Name {
	case ldap.OIDWhoAmI:
		return whoAmI(identityOf(s)), nil
	case ldap.OIDPasswordModify:
		return d.passwordModify(ctx, s, req, wantsPolicy(controls))
	}
	return ldap.ExtendedResponse{}, ldapserver.ErrUnknownExtended
}

// whoAmI is the authzId of the bound identity: "dn:<DN>", or empty while
// anonymous.
func whoAmI(id *ldapserver.Identity) ldap.ExtendedResponse {
	if id == nil {
		return ldap.ExtendedResponse{HasValue: true}
	}
	return ldap.ExtendedResponse{Value: []byte("dn:" + id.DN), HasValue: true}
}

func identityOf(s *ldapserver.Session) *ldapserver.Identity {
	if s == nil {
		return nil
	}
	return s.Identity()
}
