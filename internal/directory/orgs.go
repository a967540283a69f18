package directory

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/ldap"
	"github.com/dirgate/dirgate/internal/password"
	"github.com/dirgate/dirgate/internal/store"
)

// New returns a Directory over cfg.Store and starts its login flusher;
// Close stops it and writes what is pending.
func New(cfg Config) (*Directory, error) {
	if cfg.Store == nil {
		return nil, errors.New("directory: Config.Store is required")
	}
	d := &Directory{
		st:           cfg.Store,
		hasher:       password.NewHasher(cfg.Password),
		now:          cfg.Now,
		log:          cfg.Logger,
		secrets:      cfg.Secrets,
		throttle:     newThrottle(cfg.Throttle),
		sleep:        cfg.Sleep,
		failureFloor: cfg.FailureFloor,
		upgrade:      cfg.UpgradeHashes,
		binds:        newBindCache(cfg.BindCacheTTL),
		pushes:       newPushHub(cfg.PushTimeout),
		logins:       map[string]time.Time{},
		flushEvery:   cfg.LoginFlushInterval,
		stop:         make(chan struct{}),
		stopped:      make(chan struct{}),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.Default()
	}
	if d.flushEvery <= 0 {
		d.flushEvery = 5 * time.Second
	}
	if d.sleep == nil {
		d.sleep = sleepCtx
	}
	go d.flushLoop()
	d.audit = newAuditLog(cfg, d.log, d.PruneEvents) // system log writer (audit.go)
	go d.audit.run()
	return d, nil
}

// Close writes pending login bookkeeping and stops background work. It
// does not close the store.
func (d *Directory) Close() error {
	d.closeOnce.Do(func() { close(d.stop) })
	<-d.stopped
	d.audit.close() // writes the queued system log events (audit.go)
	return d.FlushLogins(context.Background())
}

// OrgInput describes a new org.
type OrgInput struct {
	Name             string
	Suffix           string // default DefaultSuffix
	CustomAttributes []string
}

// CreateOrg creates an org; its naming context is dc=<name>,<suffix>.
func (d *Directory) CreateOrg(ctx context.Context, in OrgInput) (*Org, error) {
	if e := validateOrgName(in.Name); e != nil {
		return nil, e
	}
	if in.Suffix == "" {
		in.Suffix = DefaultSuffix
	}
	if _, err := ldap.ParseDN(in.Suffix); err != nil {
		return nil, invalid("suffix", "naming suffix %q is not a valid DN: %v", in.Suffix, err)
	}
	if e := validateCustomAttributes(in.CustomAttributes); e != nil {
		return nil, e
	}
	o := &Org{ID: newID(prefixOrg), Name: in.Name, Suffix: in.Suffix, Created: d.now().UTC(), CustomAttributes: in.CustomAttributes}
	err := d.st.Update(ctx, func(tx store.Tx) error { return tx.CreateOrg(o) })
	if errors.Is(err, store.ErrConflict) {
		return nil, errf(CodeConflict, "org %s already exists", in.Name)
	}
	if err != nil {
		return nil, storeErr(err)
	}
	return o, nil
}

// DeleteOrg deletes an org. An org with users or groups is refused unless
// force is set, which deletes them too (and their factors, policies and
// API tokens) in the same transaction; the system log keeps their events.
func (d *Directory) DeleteOrg(ctx context.Context, name string, force bool) error {
	var gone *Org
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, name)
		if err != nil {
			return err
		}
		if !force {
			users, err := tx.UsersPage(o.ID, "", 1)
			if err != nil {
				return err
			}
			groups, err := tx.Groups(o.ID)
			if err != nil {
				return err
			}
			if len(users) > 0 || len(groups) > 0 {
				return errf(CodeIllegalTransition, "org %s still has users or groups; delete them first, or force the deletion (which deletes them too)", o.Name)
			}
		}
		gone = o
		return tx.DeleteOrg(o.ID)
	})
	if err != nil {
		return storeErr(err)
	}
	d.auditWrite(ctx, nil, gone.ID, EventOrgDelete, LogTarget{ID: gone.ID, Type: "Org", AlternateID: gone.Name, DisplayName: gone.Name})
	return nil
}

// OrgByID returns the org with the id.
func (d *Directory) OrgByID(ctx context.Context, id string) (*Org, error) {
	var o *Org
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		o, err = r.Org(id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(CodeNotFound, "no org with id %q", id)
	}
	return o, storeErr(err)
}

// Org returns the org named name.
func (d *Directory) Org(ctx context.Context, name string) (*Org, error) {
	var o *Org
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		o, err = orgByName(r, name)
		return err
	})
	return o, err
}

// Orgs lists every org.
func (d *Directory) Orgs(ctx context.Context) ([]*Org, error) {
	var out []*Org
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		out, err = r.Orgs()
		return err
	})
	return out, storeErr(err)
}

// SetCustomAttributes replaces the org's declared custom profile
// attributes. Removing one that users still hold is refused.
func (d *Directory) SetCustomAttributes(ctx context.Context, org string, names []string) (*Org, error) {
	if e := validateCustomAttributes(names); e != nil {
		return nil, e
	}
	return d.updateOrg(ctx, org, func(tx store.Tx, o *Org) (bool, error) {
		users, err := tx.Users(o.ID)
		if err != nil {
			return false, err
		}
		next := &Org{CustomAttributes: names}
		for _, u := range users {
			for k := range u.Profile.Custom {
				if !declared(next, k) {
					return false, invalid("customAttributes", "cannot remove custom attribute %q: user %s still has a value for it", k, u.Profile.Login)
				}
			}
		}
		o.CustomAttributes = names
		return true, nil
	})
}

// updateOrg loads org, lets fn change it and writes it back when fn says
// it changed, in one transaction.
func (d *Directory) updateOrg(ctx context.Context, org string, fn func(tx store.Tx, o *Org) (changed bool, err error)) (*Org, error) {
	var o *Org
	err := d.st.Update(ctx, func(tx store.Tx) error {
		var err error
		if o, err = orgByName(tx, org); err != nil {
			return err
		}
		changed, err := fn(tx, o)
		if err != nil || !changed {
			return err
		}
		return tx.UpdateOrg(o)
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return o, nil
}

// BaseDN returns the org's naming context, dc=<name>,<suffix>.
func BaseDN(o *Org) string { return "dc=" + o.Name + "," + o.Suffix }

func orgByName(r store.Reader, name string) (*Org, error) {
	o, err := r.OrgByName(strings.ToLower(name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errf(CodeNotFound, "no org named %q", name)
	}
	return o, err
}

// storeErr passes domain errors through and wraps anything else from the
// store as internal (or unavailable when the store says busy).
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &Error{Code: CodeUnavailable, Message: "the operation was cancelled or timed out", Err: err}
	}
	if errors.Is(err, store.ErrUnavailable) {
		return &Error{Code: CodeUnavailable, Message: "the directory's database cannot be reached; try again", Reason: err.Error(), Err: err}
	}
	if errors.Is(err, store.ErrFull) {
		return &Error{Code: CodeUnavailable, Message: "the directory's disk is full: the change was not made; free space and retry", Reason: err.Error(), Err: err}
	}
	if errors.Is(err, store.ErrNotFound) {
		return &Error{Code: CodeNotFound, Message: "not found", Err: err}
	}
	if errors.Is(err, store.ErrConflict) {
		return &Error{Code: CodeConflict, Message: "already exists", Err: err}
	}
	return &Error{Code: CodeInternal, Message: "internal error in the store", Reason: err.Error(), Err: err}
}
