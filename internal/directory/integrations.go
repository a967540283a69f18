package directory

// Directory integrations: an org's LDAP/Active Directory sources. The
// directory keeps each one's connector settings as opaque JSON (package
// connector/ldapsource owns their meaning), its bind password sealed
// (bound to the integration id), the profile attributes it owns (read-only
// in dirgate for its users) and the state of its last run; sync.go applies
// what a run read.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

const prefixIntegration = "0oa"

// Integration is a directory integration (see store.Integration).
type Integration = store.Integration

// Integration kinds.
const KindLDAP = "ldap"

// Integration events.
const (
	EventIntegrationCreate = "system.integration.create"
	EventIntegrationUpdate = "system.integration.update"
	EventIntegrationDelete = "system.integration.delete"
	EventSyncRun           = "system.import.complete"
)

func init() {
	displayMessages[EventIntegrationCreate] = "Create directory integration"
	displayMessages[EventIntegrationUpdate] = "Update directory integration"
	displayMessages[EventIntegrationDelete] = "Delete directory integration"
	displayMessages[EventSyncRun] = "Directory import complete"
}

// IntegrationInput creates or changes an integration.
type IntegrationInput struct {
	Name     string
	Kind     string // KindLDAP
	Settings []byte // the connector's, validated by it
	// Owned are the profile attributes the integration keeps.
	Owned []string
	// Secret, when not nil, is the new bind password (stored sealed).
	Secret []byte
	// Default, when not nil, makes this the org's default integration
	// (true: taken from any other) or not (false: the org then has none);
	// nil leaves it as it is (not the default, for a new one). The
	// default directory owns a person who is in several of the org's
	// sources (Sync).
	Default *bool
}

func secretAD(integrationID string) []byte { return []byte("integration:" + integrationID) }

func integrationTarget(in *Integration) LogTarget {
	return LogTarget{ID: in.ID, Type: "AppInstance", AlternateID: in.Kind, DisplayName: in.Name}
}

// checkIntegration validates what every integration needs.
func checkIntegration(in *IntegrationInput) *Error {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return invalid("name", "an integration needs a display name (e.g. \"Corporate AD\")")
	}
	if e := checkText("name", in.Name, maxTokenName); e != nil {
		return e
	}
	if in.Kind != KindLDAP {
		return invalid("kind", "an integration's kind is %s, not %q", KindLDAP, in.Kind)
	}
	for _, a := range in.Owned {
		switch {
		case a == "login":
			return invalid("profileSchema", "the login comes from the user attribute; map other profile fields")
		case strings.TrimSpace(a) == "":
			return invalid("profileSchema", "an empty profile field name")
		}
		// A custom attribute the org lacks is declared by the first sync.
	}
	return nil
}

// CreateIntegration adds an integration to the org.
func (d *Directory) CreateIntegration(ctx context.Context, org string, in IntegrationInput) (*Integration, error) {
	if d.secrets == nil && in.Secret != nil {
		return nil, errNoSecrets
	}
	var out *Integration
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		if e := checkIntegration(&in); e != nil {
			return e
		}
		now := d.now().UTC()
		out = &Integration{ID: newID(prefixIntegration), OrgID: o.ID, Name: in.Name, NameKey: foldKey(in.Name), Kind: in.Kind,
			Settings: in.Settings, Owned: slices.Clone(in.Owned), Created: now, LastUpdated: now}
		if in.Secret != nil {
			if out.Secret, err = d.sealSecret(out.ID, in.Secret); err != nil {
				return err
			}
		}
		if err := tx.CreateIntegration(out); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nameTaken(in.Name)
			}
			return err
		}
		if in.Default != nil && *in.Default {
			return makeDefault(tx, out)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, out.OrgID, EventIntegrationCreate, integrationTarget(out))
	return out, nil
}

func nameTaken(name string) *Error {
	e := errf(CodeConflict, "an integration named %q already exists in this org", name)
	e.Field = "name"
	return e
}

func (d *Directory) sealSecret(id string, secret []byte) (string, error) {
	s, err := d.secrets.Seal(secret, secretAD(id))
	if err != nil {
		return "", &Error{Code: CodeInternal, Message: "could not seal the integration's password", Reason: err.Error(), Err: err}
	}
	return s, nil
}

// makeDefault makes in the org's only default integration.
func makeDefault(tx store.Tx, in *Integration) error {
	all, err := tx.Integrations(in.OrgID)
	if err != nil {
		return err
	}
	for _, o := range all {
		if o.Default != (o.ID == in.ID) {
			o.Default = o.ID == in.ID
			if err := tx.UpdateIntegration(o); err != nil {
				return err
			}
		}
	}
	in.Default = true
	return nil
}

// UpdateIntegration replaces an integration's settings (and password,
// when in.Secret is set).
func (d *Directory) UpdateIntegration(ctx context.Context, org, ref string, in IntegrationInput) (*Integration, error) {
	if d.secrets == nil && in.Secret != nil {
		return nil, errNoSecrets
	}
	var out *Integration
	err := d.st.Update(ctx, func(tx store.Tx) error {
		_, cur, err := integrationByRef(tx, org, ref)
		if err != nil {
			return err
		}
		if e := checkIntegration(&in); e != nil {
			return e
		}
		cur.Name, cur.NameKey, cur.Kind, cur.Settings, cur.Owned = in.Name, foldKey(in.Name), in.Kind, in.Settings, slices.Clone(in.Owned)
		cur.LastUpdated = d.now().UTC()
		if in.Default != nil && !*in.Default {
			cur.Default = false
		}
		if in.Secret != nil {
			if cur.Secret, err = d.sealSecret(cur.ID, in.Secret); err != nil {
				return err
			}
		}
		if err := tx.UpdateIntegration(cur); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return nameTaken(in.Name)
			}
			return err
		}
		out = cur
		if in.Default != nil && *in.Default && !cur.Default {
			return makeDefault(tx, cur)
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, out.OrgID, EventIntegrationUpdate, integrationTarget(out))
	return out, nil
}

// DeleteIntegration deletes an integration; its users and groups stay,
// as local ones.
func (d *Directory) DeleteIntegration(ctx context.Context, org, ref string) error {
	var del *Integration
	err := d.st.Update(ctx, func(tx store.Tx) error {
		_, in, err := integrationByRef(tx, org, ref)
		if err != nil {
			return err
		}
		del = in
		return tx.DeleteIntegration(in.ID)
	})
	if err != nil {
		return storeErr(err)
	}
	d.auditWrite(ctx, nil, del.OrgID, EventIntegrationDelete, integrationTarget(del))
	return nil
}

// Integrations lists the org's integrations by name.
func (d *Directory) Integrations(ctx context.Context, org string) ([]*Integration, error) {
	var out []*Integration
	err := d.st.View(ctx, func(r store.Reader) error {
		o, err := orgByName(r, org)
		if err != nil {
			return err
		}
		out, err = r.Integrations(o.ID)
		return err
	})
	return out, storeErr(err)
}

// Integration returns an integration of org by id or name.
func (d *Directory) Integration(ctx context.Context, org, ref string) (*Integration, error) {
	var out *Integration
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		_, out, err = integrationByRef(r, org, ref)
		return err
	})
	return out, storeErr(err)
}

// IntegrationSecret opens an integration's bind password. Give it only to
// the connector; never log it.
func (d *Directory) IntegrationSecret(in *Integration) ([]byte, error) {
	if in.Secret == "" {
		return nil, nil
	}
	if d.secrets == nil {
		return nil, errNoSecrets
	}
	b, err := d.secrets.Open(in.Secret, secretAD(in.ID))
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: "could not open the integration's password (was it sealed with another key?)", Reason: err.Error(), Err: err}
	}
	return b, nil
}

func integrationByRef(r store.Reader, org, ref string) (*Org, *Integration, error) {
	o, err := orgByName(r, org)
	if err != nil {
		return nil, nil, err
	}
	if looksLikeID(ref, prefixIntegration) {
		in, err := r.Integration(ref)
		if err == nil && in.OrgID == o.ID {
			return o, in, nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
	}
	all, err := r.Integrations(o.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, in := range all {
		if in.NameKey == foldKey(ref) {
			return o, in, nil
		}
	}
	return nil, nil, errf(CodeNotFound, "no integration %q in org %s", ref, o.Name)
}

// ownedCheck refuses a change to a profile attribute that the integration
// the user came from keeps, unless the change is that integration's sync.
func ownedCheck(ctx context.Context, r store.Reader, u *User, p *Profile) error {
	id, err := r.UserIntegration(u.ID)
	if err != nil || id == "" || syncOf(ctx) == id {
		return err
	}
	in, err := r.Integration(id)
	if err != nil {
		return err
	}
	for _, a := range in.Owned {
		before, _ := ProfileValue(&u.Profile, a)
		after, _ := ProfileValue(p, a)
		if before != after {
			return invalid("profile."+a, "%s is kept by the directory integration %q (its profile mapping): change it in the source directory, and the next sync brings it here",
				attrLabel(a), in.Name)
		}
	}
	return nil
}

type syncKey struct{}

// withSync marks ctx as integration id's sync, which may write the
// attributes it owns.
func withSync(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, syncKey{}, id)
}

func syncOf(ctx context.Context) string {
	id, _ := ctx.Value(syncKey{}).(string)
	return id
}

// IntegrationState is what the directory records of an integration's
// runs, in its State: the last run, and the lease of the one running
// (one run at a time per integration, across every process sharing the
// store).
type IntegrationState struct {
	LastStarted  time.Time   `json:"lastStarted,omitzero"`
	LastFinished time.Time   `json:"lastFinished,omitzero"`
	LastError    string      `json:"lastError,omitempty"`
	LastReport   *SyncReport `json:"lastReport,omitempty"`
	// Holder runs the integration until LeaseUntil (a crashed run's lease
	// expires).
	Holder     string    `json:"holder,omitempty"`
	LeaseUntil time.Time `json:"leaseUntil,omitzero"`
	// Mark is the latest modification time the last good run saw in the
	// source, LastFull when the last full run started: the connector's
	// incremental runs.
	Mark     time.Time `json:"mark,omitzero"`
	LastFull time.Time `json:"lastFull,omitzero"`
}

// StateOf decodes an integration's state (the zero state when it has
// none or it does not decode).
func StateOf(in *Integration) IntegrationState {
	var st IntegrationState
	if len(in.State) > 0 {
		_ = json.Unmarshal(in.State, &st) // a state that does not decode is no state
	}
	return st
}

// ErrRunning is returned by BeginRun while another run holds the lease.
var ErrRunning = &Error{Code: CodeConflict, Message: "a sync of this integration is running; try again when it ends"}

// BeginRun takes the integration's run lease for holder until now+ttl,
// unless another holder has it; it records the run's start.
func (d *Directory) BeginRun(ctx context.Context, id, holder string, ttl time.Duration) error {
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Integration(id)
		if err != nil {
			return notFoundAs(err, "no integration with id %q", id)
		}
		st := StateOf(cur)
		now := d.now().UTC()
		if st.Holder != "" && st.Holder != holder && now.Before(st.LeaseUntil) {
			return &Error{Code: CodeConflict, Message: fmt.Sprintf("a sync of integration %q is running (%s, since %s); try again when it ends",
				cur.Name, st.Holder, st.LastStarted.Format(time.RFC3339)), Err: ErrRunning}
		}
		st.Holder, st.LeaseUntil, st.LastStarted = holder, now.Add(ttl), now
		if cur.State, err = json.Marshal(st); err != nil {
			return err
		}
		return tx.UpdateIntegration(cur)
	})
	return storeErr(err)
}

// RenewRun extends holder's run lease to now+ttl; it fails with
// ErrRunning when holder no longer holds it (it expired and another run
// took it).
func (d *Directory) RenewRun(ctx context.Context, id, holder string, ttl time.Duration) error {
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Integration(id)
		if err != nil {
			return notFoundAs(err, "no integration with id %q", id)
		}
		st := StateOf(cur)
		if st.Holder != holder {
			return &Error{Code: CodeConflict, Message: fmt.Sprintf("the run of integration %q lost its lease to %s", cur.Name, st.Holder), Err: ErrRunning}
		}
		st.LeaseUntil = d.now().UTC().Add(ttl)
		if cur.State, err = json.Marshal(st); err != nil {
			return err
		}
		return tx.UpdateIntegration(cur)
	})
	return storeErr(err)
}

// EndRun records a run's outcome and releases holder's lease; set, when
// not nil and the run succeeded, records the connector's marks.
func (d *Directory) EndRun(ctx context.Context, id, holder string, rep *SyncReport, runErr error, set func(*IntegrationState)) error {
	var in *Integration
	err := d.st.Update(ctx, func(tx store.Tx) error {
		cur, err := tx.Integration(id)
		if err != nil {
			return notFoundAs(err, "no integration with id %q", id)
		}
		st := StateOf(cur)
		if st.Holder == holder {
			st.Holder, st.LeaseUntil = "", time.Time{}
		}
		st.LastFinished, st.LastError = d.now().UTC(), ""
		if runErr != nil {
			st.LastError = runErr.Error()
		}
		if runErr == nil && set != nil {
			set(&st)
		}
		if rep != nil && !rep.DryRun {
			short := *rep
			short.Skipped = short.Skipped[:min(len(short.Skipped), 20)]
			short.DuplicateEmails = short.DuplicateEmails[:min(len(short.DuplicateEmails), 20)]
			st.LastReport = &short
		}
		if cur.State, err = json.Marshal(st); err != nil {
			return err
		}
		in = cur
		return tx.UpdateIntegration(cur)
	})
	// A failed run is in the system log too (a good one is, by Sync,
	// with its counts); the connector's messages never hold a secret.
	if err == nil && runErr != nil && in != nil {
		d.emit(in.OrgID, &LogEvent{EventType: EventSyncRun, DisplayMessage: displayMessages[EventSyncRun], Actor: actorOf(ctx),
			Target: []LogTarget{integrationTarget(in)}, Outcome: LogOutcome{Result: ResultFailure, Reason: runErr.Error()}})
	}
	return storeErr(err)
}

// userIntegration is the id of the integration a user came from ("" for
// a local user).
func (d *Directory) userIntegration(ctx context.Context, userID string) (string, error) {
	var id string
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		id, err = r.UserIntegration(userID)
		return err
	})
	return id, err
}

// UserSource is the integration user userID came from, whose Owned
// attributes are read-only for everyone else; nil for a local user.
func (d *Directory) UserSource(ctx context.Context, userID string) (*Integration, error) {
	var out *Integration
	err := d.st.View(ctx, func(r store.Reader) error {
		id, err := r.UserIntegration(userID)
		if err != nil || id == "" {
			return err
		}
		out, err = r.Integration(id)
		return err
	})
	return out, storeErr(err)
}

// SetDelegate sets the delegated-authentication check (connector
// ldapsource's Delegator, which needs the Directory first). Call it before
// serving sign-ins.
func (d *Directory) SetDelegate(fn Delegate) { d.delegate = fn }

// IntegrationByID returns an integration by its id, whatever its org.
func (d *Directory) IntegrationByID(ctx context.Context, id string) (*Integration, error) {
	var out *Integration
	err := d.st.View(ctx, func(r store.Reader) (err error) {
		out, err = r.Integration(id)
		return notFoundAs(err, "no integration with id %q", id)
	})
	return out, storeErr(err)
}
