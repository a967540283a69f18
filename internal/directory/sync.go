package directory

// Sync applies what a directory integration read from its source (a
// SyncSource: users and groups with the source's ids for them) to the org:
// it creates, updates, reactivates and removes the integration's users,
// creates and links its groups and their memberships, and reports what it
// did (or, in a dry run, would do). Every rule is here, whatever the
// connector: logins unique per org, duplicate emails left empty, the
// lifecycle of removed users, local users and groups never touched.
//
// A run is a diff of the source against the org, applied in batches of
// transactions: a crash between batches leaves part of the changes done,
// and the next run, diffing again, does the rest. So runs are idempotent
// and resumable; one at a time per integration is the caller's to ensure
// (the scheduler's lock).

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dirgate/dirgate/internal/store"
)

// What a sync does to a user gone from the source.
const (
	RemovalDeactivate = "deactivate"
	RemovalSuspend    = "suspend"
	RemovalKeep       = "keep"
)

// SyncUser is a user as the source has it.
type SyncUser struct {
	// ExternalID is the source's stable id for the user (entryUUID,
	// objectGUID, or its DN).
	ExternalID string
	Login      string
	// Profile holds the attributes the integration maps, by profile name
	// (email, firstName, …, custom names): all of them the integration
	// owns, an absent one is cleared.
	Profile map[string]string
	// Groups names more dirgate groups for the user (an external
	// endpoint's answer); they must exist.
	Groups []string
}

// SyncGroup is a group as the source has it.
type SyncGroup struct {
	ExternalID  string
	Name        string // the dirgate group's name (after the mapping)
	Description string
	// Members are the external ids of its users.
	Members []string
}

// SyncSource is what one run read.
type SyncSource struct {
	Users []SyncUser
	// Full: Users is every user of the source, so the integration's users
	// missing from it were removed there. An incremental run is not full:
	// Users are the changed ones, and Present, when set, the external ids
	// of every user of the source (removals are those missing from it).
	Full    bool
	Present []string
	// GroupSync: Groups is every group of the source.
	GroupSync bool
	Groups    []SyncGroup
}

// SyncOptions are the integration's settings that the directory applies.
type SyncOptions struct {
	// ManualApproval: new users are STAGED, for an admin to activate.
	ManualApproval bool
	// Removal: RemovalDeactivate (default), RemovalSuspend or RemovalKeep.
	Removal string
	// DefaultGroups every synced user belongs to (dirgate group names;
	// they must exist).
	DefaultGroups []string
	DryRun        bool
	// Adopt migrates users to this integration: a source user without a
	// link takes over the existing user it matches (by AdoptBy: "login",
	// the default, or "email") when that user is local (Adopt "local") or
	// of the integration Adopt names (id or name), instead of being
	// skipped.
	Adopt, AdoptBy string
}

// SyncSkip is a source entry the run could not apply, and why.
type SyncSkip struct {
	Login, ExternalID, Reason string
}

// SyncReport is what a run did (or, dry, would do).
type SyncReport struct {
	DryRun bool
	// Incremental: the run read only the users changed since the last
	// (set by the connector).
	Incremental                                                bool
	Users                                                      int // in the source
	Created, Updated, Reactivated, Deactivated, Suspended      int
	Unchanged                                                  int
	Adopted                                                    int // migrated from local users or another integration
	Groups                                                     int // in the source
	GroupsCreated, GroupsUpdated, MembersAdded, MembersRemoved int
	// DuplicateEmails are the logins whose email another user has: they
	// keep an empty email.
	DuplicateEmails []string
	Skipped         []SyncSkip
	// Examples are the first logins (or group names) of each kind of
	// change: created, adopted, updated, reactivated, deactivated,
	// suspended, groupsCreated.
	Examples map[string][]string
	Started  time.Time
	Finished time.Time
}

const (
	syncExamples = 5
	syncBatch    = 500
)

func (r *SyncReport) example(kind, name string) {
	if r.Examples == nil {
		r.Examples = map[string][]string{}
	}
	if len(r.Examples[kind]) < syncExamples {
		r.Examples[kind] = append(r.Examples[kind], name)
	}
}

// syncOp is one change of a run.
type syncOp struct {
	kind    string // see apply
	user    *User  // createUser, updateUser, status
	to      string // status: the new status
	group   *Group // createGroup, updateGroup
	ext     string // the external id to link
	from    string // adoptUser: the integration it leaves ("" for a local user)
	fromExt string // adoptUser: its external id there
	userID  string // member ops
	gid     string // member ops
}

// syncState is the org as a run found it.
type syncState struct {
	org              *Org
	in               *Integration
	users            map[string]*User  // by id
	byLogin          map[string]*User  // by folded login
	byEmail          map[string]string // folded email -> user id
	userLinks        map[string]string // external id -> user id
	linkedUsers      map[string]string // user id -> integration id (every integration's)
	linkExt          map[string]string // user id -> its external id at its integration
	groups           map[string]*Group // by id
	groupByName      map[string]*Group // by folded name
	groupLinks       map[string]string // external id -> group id
	linkedGroups     map[string]bool   // group id -> linked to some integration
	members          map[string]map[string]bool
	integrationNames map[string]string // integration id -> name
}

// Sync applies src to the org as integration integrationID's run.
func (d *Directory) Sync(ctx context.Context, org, integrationID string, src *SyncSource, opt SyncOptions) (*SyncReport, error) {
	rep := &SyncReport{DryRun: opt.DryRun, Started: d.now().UTC(), Users: len(src.Users), Groups: len(src.Groups)}
	switch opt.Removal {
	case "":
		opt.Removal = RemovalDeactivate
	case RemovalDeactivate, RemovalSuspend, RemovalKeep:
	default:
		return nil, invalid("removal", "removal is %s, %s or %s, not %q", RemovalDeactivate, RemovalSuspend, RemovalKeep, opt.Removal)
	}
	st, err := d.readSyncState(ctx, org, integrationID)
	if err != nil {
		return nil, err
	}
	ops, attrs, err := d.planSync(st, src, opt, rep)
	if err != nil {
		return nil, err
	}
	if !opt.DryRun {
		ctx = withSync(ctx, st.in.ID)
		if err := d.applySync(ctx, st, attrs, ops, rep); err != nil {
			return rep, err
		}
	}
	rep.Finished = d.now().UTC()
	if !opt.DryRun {
		d.auditSync(ctx, st, rep)
	}
	return rep, nil
}

func (d *Directory) readSyncState(ctx context.Context, org, integrationID string) (*syncState, error) {
	st := &syncState{users: map[string]*User{}, byLogin: map[string]*User{}, byEmail: map[string]string{},
		userLinks: map[string]string{}, linkedUsers: map[string]string{}, linkExt: map[string]string{}, groups: map[string]*Group{},
		groupByName: map[string]*Group{}, groupLinks: map[string]string{}, linkedGroups: map[string]bool{},
		members: map[string]map[string]bool{}, integrationNames: map[string]string{}}
	err := d.st.View(ctx, func(r store.Reader) error {
		o, in, err := integrationByRef(r, org, integrationID)
		if err != nil {
			return err
		}
		st.org, st.in = o, in
		users, err := r.Users(o.ID)
		if err != nil {
			return err
		}
		for _, u := range users {
			st.users[u.ID], st.byLogin[u.LoginKey] = u, u
			if u.Profile.Email != "" {
				st.byEmail[foldKey(u.Profile.Email)] = u.ID
			}
		}
		ins, err := r.Integrations(o.ID)
		if err != nil {
			return err
		}
		for _, other := range ins {
			st.integrationNames[other.ID] = other.Name
			uls, err := r.SyncUsers(other.ID)
			if err != nil {
				return err
			}
			for _, l := range uls {
				st.linkedUsers[l.LocalID], st.linkExt[l.LocalID] = other.ID, l.ExternalID
				if other.ID == in.ID {
					st.userLinks[l.ExternalID] = l.LocalID
				}
			}
			gls, err := r.SyncGroups(other.ID)
			if err != nil {
				return err
			}
			for _, l := range gls {
				st.linkedGroups[l.LocalID] = true
				if other.ID == in.ID {
					st.groupLinks[l.ExternalID] = l.LocalID
				}
			}
		}
		groups, err := r.Groups(o.ID)
		if err != nil {
			return err
		}
		for _, g := range groups {
			st.groups[g.ID], st.groupByName[g.NameKey] = g, g
		}
		ms, err := r.Memberships(o.ID)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if st.members[m.GroupID] == nil {
				st.members[m.GroupID] = map[string]bool{}
			}
			st.members[m.GroupID][m.UserID] = true
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return st, nil
}

// planSync diffs src against the org and returns the changes, and the
// custom attributes the org must declare first.
func (d *Directory) planSync(st *syncState, src *SyncSource, opt SyncOptions, rep *SyncReport) ([]syncOp, []string, error) {
	var ops []syncOp
	var attrs []string
	for _, name := range opt.DefaultGroups {
		if st.groupByName[foldKey(name)] == nil {
			return nil, nil, invalid("defaultGroups", "default group %q does not exist in org %s: create it first", name, st.org.Name)
		}
	}
	now := d.now().UTC()
	adoptFrom := ""
	switch opt.Adopt {
	case "", "local":
	default:
		for id, name := range st.integrationNames {
			if id == opt.Adopt || foldKey(name) == foldKey(opt.Adopt) {
				adoptFrom = id
			}
		}
		if adoptFrom == "" || adoptFrom == st.in.ID {
			return nil, nil, invalid("adopt", "users are migrated from \"local\" or another integration of org %s, not %q", st.org.Name, opt.Adopt)
		}
	}
	if opt.AdoptBy != "" && opt.AdoptBy != "login" && opt.AdoptBy != "email" {
		return nil, nil, invalid("adoptBy", "users are matched by login or email, not %q", opt.AdoptBy)
	}
	synced := map[string]string{} // user external id -> user id, for memberships (planned creates included)
	seenLogin := map[string]string{}
	wantGroups := map[string][]string{} // user id -> dirgate group names (defaults, endpoint)
	for i := range src.Users {
		su := &src.Users[i]
		login := strings.TrimSpace(su.Login)
		skip := func(reason string) {
			rep.Skipped = append(rep.Skipped, SyncSkip{Login: login, ExternalID: su.ExternalID, Reason: reason})
		}
		if su.ExternalID == "" || login == "" {
			skip("no external id or login")
			continue
		}
		key := foldKey(login)
		if prev, dup := seenLogin[key]; dup {
			skip("the login is also the login of source entry " + prev)
			continue
		}
		seenLogin[key] = su.ExternalID
		if _, dup := synced[su.ExternalID]; dup {
			skip("the external id appears twice in the source")
			continue
		}
		for name := range su.Profile {
			if !IsBaseProfileAttribute(name) && !slices.Contains(st.org.CustomAttributes, name) && !slices.Contains(attrs, name) {
				attrs = append(attrs, name)
			}
		}
		org := *st.org
		org.CustomAttributes = append(slices.Clone(st.org.CustomAttributes), attrs...)
		id, linked := st.userLinks[su.ExternalID]
		cur := st.users[id]
		if (!linked || cur == nil) && opt.Adopt != "" {
			cand := st.byLogin[key]
			if opt.AdoptBy == "email" {
				cand = nil
				if uid := st.byEmail[foldKey(su.Profile["email"])]; su.Profile["email"] != "" {
					cand = st.users[uid]
				}
			}
			if cand != nil && st.linkedUsers[cand.ID] == adoptFrom && (adoptFrom != "" || opt.Adopt == "local") {
				linked, cur = true, cand
			}
		}
		// The org's default directory owns a person who is in several
		// sources: it takes over, by login, a user of another integration.
		if cand := st.byLogin[key]; (!linked || cur == nil) && st.in.Default && cand != nil {
			if from := st.linkedUsers[cand.ID]; from != "" && from != st.in.ID {
				linked, cur = true, cand
			}
		}
		if linked && cur != nil && st.linkedUsers[cur.ID] != st.in.ID {
			from := st.linkedUsers[cur.ID]
			ops = append(ops, syncOp{kind: "adoptUser", user: cur, ext: su.ExternalID, from: from, fromExt: st.linkExt[cur.ID]})
			st.linkedUsers[cur.ID], st.userLinks[su.ExternalID] = st.in.ID, cur.ID
			rep.Adopted++
			rep.example("adopted", cur.Profile.Login)
		}
		if !linked || cur == nil {
			if other := st.byLogin[key]; other != nil {
				if in := st.linkedUsers[other.ID]; in != "" && in != st.in.ID {
					skip(fmt.Sprintf("login %s belongs to a user of the integration %q (migrate users, or make this the org's default directory, to bring them under this one)", login, st.integrationNames[in]))
				} else {
					skip(fmt.Sprintf("login %s is taken by a local user (migrate users to bring them under this integration)", login))
				}
				continue
			}
			p := Profile{Login: login}
			applySyncProfile(&p, su.Profile, st.in.Owned)
			if p.Email != "" {
				if owner, taken := st.byEmail[foldKey(p.Email)]; taken && owner != "" {
					rep.DuplicateEmails = append(rep.DuplicateEmails, login)
					p.Email = ""
				} else {
					st.byEmail[foldKey(p.Email)] = "new:" + su.ExternalID
				}
			}
			if e := validateProfile(&p, &org); e != nil {
				skip(e.Message)
				continue
			}
			status := StatusActive
			if opt.ManualApproval {
				status = StatusStaged
			}
			u := &User{ID: newID(prefixUser), OrgID: st.org.ID, Status: status, Type: store.TypePerson, LoginKey: key, Profile: p,
				Created: now, StatusChanged: now, LastUpdated: now}
			if status == StatusActive {
				u.Activated = now
			}
			ops = append(ops, syncOp{kind: "createUser", user: u, ext: su.ExternalID})
			st.byLogin[key] = u
			rep.Created++
			rep.example("created", login)
			synced[su.ExternalID] = u.ID
			wantGroups[u.ID] = append(slices.Clone(opt.DefaultGroups), su.Groups...)
			continue
		}
		synced[su.ExternalID] = cur.ID
		wantGroups[cur.ID] = append(slices.Clone(opt.DefaultGroups), su.Groups...)
		p := cur.Profile
		p.Custom = maps.Clone(p.Custom)
		if p.Login != login && foldKey(p.Login) != key {
			if other := st.byLogin[key]; other != nil && other.ID != cur.ID {
				skip(fmt.Sprintf("renamed in the source to %s, a login another user has", login))
				continue
			}
		}
		p.Login = login
		applySyncProfile(&p, su.Profile, st.in.Owned)
		if p.Email != cur.Profile.Email && p.Email != "" {
			if owner, taken := st.byEmail[foldKey(p.Email)]; taken && owner != cur.ID {
				rep.DuplicateEmails = append(rep.DuplicateEmails, login)
				p.Email = ""
			}
		}
		next := *cur
		changed := false
		if !sameProfile(&cur.Profile, &p) {
			if e := validateProfile(&p, &org); e != nil {
				skip(e.Message)
				continue
			}
			next.Profile, next.LoginKey, changed = p, key, true
		}
		switch {
		case cur.Status == StatusDeprovisioned:
			next.Status = StatusActive
			if opt.ManualApproval {
				next.Status = StatusStaged
			}
			changed = true
			rep.Reactivated++
			rep.example("reactivated", login)
		case cur.Status == StatusSuspended && opt.Removal == RemovalSuspend:
			next.Status, changed = StatusActive, true
			rep.Reactivated++
			rep.example("reactivated", login)
		case changed:
			rep.Updated++
			rep.example("updated", login)
		default:
			rep.Unchanged++
		}
		if changed {
			if next.Status != cur.Status {
				next.StatusChanged = now
				if next.Status == StatusActive {
					next.Activated = now
				}
			}
			next.LastUpdated = now
			ops = append(ops, syncOp{kind: "updateUser", user: &next})
		}
	}
	// Users present but unchanged (an incremental run) keep their
	// memberships.
	present := map[string]bool{}
	for _, ext := range src.Present {
		present[ext] = true
		if _, ok := synced[ext]; !ok {
			if id := st.userLinks[ext]; id != "" {
				synced[ext] = id
			}
		}
	}
	if len(attrs) > 0 {
		if e := validateCustomAttributes(append(slices.Clone(st.org.CustomAttributes), attrs...)); e != nil {
			e.Field = "attributeSync"
			e.Message = "the source's attributes cannot become custom attributes of org " + st.org.Name + ": " + e.Message
			return nil, nil, e
		}
	}
	// Users gone from the source.
	if (src.Full || src.Present != nil) && opt.Removal != RemovalKeep {
		exts := make([]string, 0, len(st.userLinks))
		for ext := range st.userLinks {
			exts = append(exts, ext)
		}
		sort.Strings(exts)
		for _, ext := range exts {
			if _, seen := synced[ext]; seen || present[ext] {
				continue
			}
			u := st.users[st.userLinks[ext]]
			if u == nil {
				continue
			}
			// Suspending is for ACTIVE users; any other (STAGED, locked
			// out, password expired) gone from the source is deactivated,
			// so that nobody gone keeps a way in (an approval, an unlock).
			to, kind := StatusDeprovisioned, "deactivated"
			if opt.Removal == RemovalSuspend && (u.Status == StatusActive || u.Status == StatusSuspended) {
				to, kind = StatusSuspended, "suspended"
			}
			if u.Status == to || u.Status == StatusDeprovisioned {
				continue
			}
			next := *u
			next.Status, next.StatusChanged, next.LastUpdated = to, now, now
			ops = append(ops, syncOp{kind: "status", user: &next, to: to})
			if kind == "deactivated" {
				rep.Deactivated++
			} else {
				rep.Suspended++
			}
			rep.example(kind, u.Profile.Login)
		}
	}
	// Groups and memberships.
	if src.GroupSync {
		seen := map[string]bool{}
		for i := range src.Groups {
			sg := &src.Groups[i]
			name := strings.TrimSpace(sg.Name)
			if sg.ExternalID == "" || name == "" || seen[sg.ExternalID] {
				rep.Skipped = append(rep.Skipped, SyncSkip{Login: name, ExternalID: sg.ExternalID, Reason: "a group without an id or name, or twice"})
				continue
			}
			seen[sg.ExternalID] = true
			g := st.groups[st.groupLinks[sg.ExternalID]]
			switch {
			case g == nil:
				if same := st.groupByName[foldKey(name)]; same != nil {
					if st.linkedGroups[same.ID] {
						rep.Skipped = append(rep.Skipped, SyncSkip{Login: name, ExternalID: sg.ExternalID, Reason: "the group name belongs to a group of another integration"})
						continue
					}
					g = same // a local group of that name (the mapping's target): linked, not copied
					ops = append(ops, syncOp{kind: "linkGroup", group: g, ext: sg.ExternalID})
				} else {
					g = &Group{ID: newID(prefixGroup), OrgID: st.org.ID, Name: name, NameKey: foldKey(name), Description: sg.Description,
						Created: now, LastUpdated: now, LastMembershipUpdated: now}
					if e := validateGroupName(g.Name); e != nil {
						rep.Skipped = append(rep.Skipped, SyncSkip{Login: name, ExternalID: sg.ExternalID, Reason: e.Message})
						continue
					}
					ops = append(ops, syncOp{kind: "createGroup", group: g, ext: sg.ExternalID})
					st.groupByName[g.NameKey], st.groups[g.ID] = g, g
					rep.GroupsCreated++
					rep.example("groupsCreated", name)
				}
			case g.Name != name || g.Description != sg.Description:
				next := *g
				next.Name, next.NameKey, next.Description, next.LastUpdated = name, foldKey(name), sg.Description, now
				ops = append(ops, syncOp{kind: "updateGroup", group: &next})
				rep.GroupsUpdated++
			}
			want := map[string]bool{}
			for _, ext := range sg.Members {
				if id := synced[ext]; id != "" {
					want[id] = true
				}
			}
			ops = append(ops, memberOps(st, g.ID, want, rep)...)
		}
		// Groups gone from the source lose their synced members.
		for ext, gid := range st.groupLinks {
			if !seen[ext] {
				ops = append(ops, memberOps(st, gid, map[string]bool{}, rep)...)
			}
		}
	}
	// Default groups and the endpoint's groups: added, never taken away.
	for uid, names := range wantGroups {
		for _, name := range names {
			g := st.groupByName[foldKey(name)]
			if g == nil {
				rep.Skipped = append(rep.Skipped, SyncSkip{ExternalID: uid, Reason: "group " + name + " does not exist"})
				continue
			}
			if !st.members[g.ID][uid] {
				if st.members[g.ID] == nil {
					st.members[g.ID] = map[string]bool{}
				}
				st.members[g.ID][uid] = true
				ops = append(ops, syncOp{kind: "addMember", gid: g.ID, userID: uid})
				rep.MembersAdded++
			}
		}
	}
	return ops, attrs, nil
}

// memberOps makes group gid's members from this integration exactly want
// (its local members and other integrations' stay).
func memberOps(st *syncState, gid string, want map[string]bool, rep *SyncReport) []syncOp {
	var ops []syncOp
	cur := st.members[gid]
	if cur == nil {
		cur = map[string]bool{}
		st.members[gid] = cur
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if !cur[id] {
			cur[id] = true
			ops = append(ops, syncOp{kind: "addMember", gid: gid, userID: id})
			rep.MembersAdded++
		}
	}
	var gone []string
	for id := range cur {
		if !want[id] && st.linkedUsers[id] == st.in.ID {
			gone = append(gone, id)
		}
	}
	sort.Strings(gone)
	for _, id := range gone {
		delete(cur, id)
		ops = append(ops, syncOp{kind: "removeMember", gid: gid, userID: id})
		rep.MembersRemoved++
	}
	return ops
}

// applySyncProfile sets p's attributes from the source's values: every
// value given, and an owned attribute the source lacks is cleared.
func applySyncProfile(p *Profile, vals map[string]string, owned []string) {
	for _, a := range owned {
		if _, given := vals[a]; !given && a != "login" {
			SetProfileValue(p, a, "")
		}
	}
	for a, v := range vals {
		if a != "login" {
			SetProfileValue(p, a, strings.TrimSpace(v))
		}
	}
}

func sameProfile(a, b *Profile) bool {
	if a.Login != b.Login || a.Email != b.Email || a.FirstName != b.FirstName || a.LastName != b.LastName ||
		a.DisplayName != b.DisplayName || a.NickName != b.NickName || a.Title != b.Title || a.Department != b.Department ||
		a.Organization != b.Organization || a.MobilePhone != b.MobilePhone || a.PrimaryPhone != b.PrimaryPhone ||
		len(a.Custom) != len(b.Custom) {
		return false
	}
	for k, v := range a.Custom {
		if w, ok := b.Custom[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// applySync writes the changes in batches of transactions.
func (d *Directory) applySync(ctx context.Context, st *syncState, attrs []string, ops []syncOp, rep *SyncReport) error {
	if len(attrs) > 0 {
		if _, err := d.updateOrg(ctx, st.org.Name, func(_ store.Tx, o *Org) (bool, error) {
			added := false
			for _, a := range attrs {
				if !slices.Contains(o.CustomAttributes, a) {
					o.CustomAttributes, added = append(o.CustomAttributes, a), true
				}
			}
			return added, nil
		}); err != nil {
			return err
		}
	}
	for start := 0; start < len(ops); start += syncBatch {
		batch := ops[start:min(start+syncBatch, len(ops))]
		var events []func()
		err := d.st.Update(ctx, func(tx store.Tx) error {
			events = events[:0]
			for _, op := range batch {
				ev, err := d.applyOp(tx, st, op)
				if err != nil {
					return err
				}
				if ev != nil {
					events = append(events, ev)
				}
			}
			return nil
		})
		if err != nil {
			return storeErr(fmt.Errorf("sync of integration %q, changes %d-%d of %d: %w", st.in.Name, start+1, start+len(batch), len(ops), err))
		}
		for _, op := range batch {
			if op.user != nil {
				d.wrote(op.user.ID)
			}
		}
		for _, ev := range events {
			ev()
		}
	}
	return nil
}

// applyOp makes one change and returns the event it writes, to emit
// once the batch committed.
func (d *Directory) applyOp(tx store.Tx, st *syncState, op syncOp) (func(), error) {
	ctx := WithActor(context.Background(), LogActor{ID: st.in.ID, Type: "AppInstance", AlternateID: st.in.Kind, DisplayName: st.in.Name})
	switch op.kind {
	case "createUser":
		if err := createUser(tx, st.org, op.user); err != nil {
			return nil, err
		}
		if err := tx.PutSyncUser(store.SyncLink{IntegrationID: st.in.ID, ExternalID: op.ext, LocalID: op.user.ID}); err != nil {
			return nil, err
		}
		u := op.user
		return func() { d.auditUser(ctx, nil, EventUserCreate, u) }, nil
	case "updateUser":
		if err := tx.UpdateUser(op.user); err != nil {
			return nil, err
		}
		u := op.user
		return func() { d.auditUser(ctx, nil, EventUserUpdateProfile, u) }, nil
	case "status":
		if err := tx.UpdateUser(op.user); err != nil {
			return nil, err
		}
		u, ev := op.user, EventUserDeactivate
		if op.to == StatusSuspended {
			ev = EventUserSuspend
		}
		return func() { d.auditUser(ctx, nil, ev, u) }, nil
	case "createGroup":
		if err := createGroup(tx, st.org, op.group); err != nil {
			return nil, err
		}
		if err := tx.PutSyncGroup(store.SyncLink{IntegrationID: st.in.ID, ExternalID: op.ext, LocalID: op.group.ID}); err != nil {
			return nil, err
		}
		g := op.group
		return func() { d.auditWrite(ctx, nil, g.OrgID, EventGroupCreate, groupTarget(g)) }, nil
	case "adoptUser":
		if op.from != "" {
			if _, err := tx.DeleteSyncUser(op.from, op.fromExt); err != nil {
				return nil, err
			}
		}
		return nil, tx.PutSyncUser(store.SyncLink{IntegrationID: st.in.ID, ExternalID: op.ext, LocalID: op.user.ID})
	case "linkGroup":
		return nil, tx.PutSyncGroup(store.SyncLink{IntegrationID: st.in.ID, ExternalID: op.ext, LocalID: op.group.ID})
	case "updateGroup":
		if err := tx.UpdateGroup(op.group); err != nil {
			return nil, err
		}
		g := op.group
		return func() { d.auditWrite(ctx, nil, g.OrgID, EventGroupUpdate, groupTarget(g)) }, nil
	case "addMember", "removeMember":
		var changed bool
		var err error
		ev := EventGroupMembershipAdd
		if op.kind == "addMember" {
			changed, err = tx.AddMember(op.gid, op.userID)
		} else {
			changed, err = tx.RemoveMember(op.gid, op.userID)
			ev = EventGroupMembershipRemove
		}
		if err != nil || !changed {
			return nil, err
		}
		g := st.groups[op.gid]
		if g == nil {
			return nil, nil
		}
		gt := groupTarget(g)
		uid := op.userID
		return func() { d.auditWrite(ctx, nil, st.org.ID, ev, LogTarget{ID: uid, Type: "User"}, gt) }, nil
	}
	return nil, fmt.Errorf("directory: unknown sync change %q", op.kind)
}

func (d *Directory) auditSync(ctx context.Context, st *syncState, rep *SyncReport) {
	reason := fmt.Sprintf("%d users in the source: %d created, %d adopted, %d updated, %d reactivated, %d deactivated, %d suspended, %d unchanged; "+
		"%d groups: %d created, %d updated, %d members added, %d removed; %d duplicate emails, %d skipped",
		rep.Users, rep.Created, rep.Adopted, rep.Updated, rep.Reactivated, rep.Deactivated, rep.Suspended, rep.Unchanged,
		rep.Groups, rep.GroupsCreated, rep.GroupsUpdated, rep.MembersAdded, rep.MembersRemoved, len(rep.DuplicateEmails), len(rep.Skipped))
	d.emit(st.org.ID, &LogEvent{EventType: EventSyncRun, DisplayMessage: displayMessages[EventSyncRun], Actor: actorOf(ctx),
		Target: []LogTarget{integrationTarget(st.in)}, Outcome: LogOutcome{Result: ResultSuccess, Reason: reason}})
}
