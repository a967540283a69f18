package ldapsource

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// Owned returns the profile attributes an integration with settings s
// keeps (read-only in dirgate for its users): the mapped profile fields,
// and the synced attributes under their prefix.
func Owned(s *Settings) []string {
	var out []string
	for field := range s.Profile {
		out = append(out, profileName(field))
	}
	for _, a := range s.Attributes {
		out = append(out, s.AttributePrefix+a)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// profileName is the profile attribute a profileSchema key names
// ("custom:costCenter" is the custom attribute costCenter).
func profileName(field string) string { return strings.TrimPrefix(field, "custom:") }

// Options are the directory's options for a run of s.
func Options(s *Settings, dryRun bool) directory.SyncOptions {
	return directory.SyncOptions{ManualApproval: s.ManualApproval, Removal: string(s.Removal), DefaultGroups: s.DefaultGroups, DryRun: dryRun}
}

// Extra is what the external groups and attributes endpoint answered,
// by login.
type Extra map[string]ExtraUser

// ExtraUser is one user's extra groups (dirgate group names) and
// attributes (stored under the attribute prefix).
type ExtraUser struct {
	Groups     []string          `json:"groups"`
	Attributes map[string]string `json:"attributes"`
}

// plan turns what a read found into the directory's SyncSource: users
// are the users read in full (all of them in a full run, the changed ones
// in an incremental run), present every user of the source, among which
// group members are resolved. Members that are not users of the user
// search (nested groups, entries outside it) are left out and listed as
// skips.
func plan(s *Settings, users, present []SourceUser, groups []SourceGroup, extra Extra) (*directory.SyncSource, []directory.SyncSkip) {
	src := &directory.SyncSource{Full: true, GroupSync: s.GroupBase != ""}
	members := NewMemberResolver(s, present)
	for i := range users {
		u := &users[i]
		su := directory.SyncUser{ExternalID: u.ExternalID, Login: u.Login, Profile: map[string]string{}}
		for field, attr := range s.Profile {
			su.Profile[profileName(field)] = u.Attr(attr)
		}
		for _, a := range s.Attributes {
			su.Profile[s.AttributePrefix+a] = strings.Join(u.Attrs[strings.ToLower(a)], ",")
		}
		if x, ok := extra[u.Login]; ok {
			su.Groups = x.Groups
			for k, v := range x.Attributes {
				su.Profile[s.AttributePrefix+k] = v
			}
		}
		src.Users = append(src.Users, su)
	}
	var skips []directory.SyncSkip
	for _, g := range groups {
		name := g.Name
		if to, ok := s.GroupMap[g.Name]; ok {
			name = to
		}
		sg := directory.SyncGroup{ExternalID: g.ExternalID, Name: name, Description: g.Description}
		var unresolved []string
		sg.Members, unresolved = members.ExternalIDs(g)
		if len(unresolved) > 0 {
			skips = append(skips, directory.SyncSkip{Login: g.Name, ExternalID: g.ExternalID,
				Reason: fmt.Sprintf("%d members are not users of the user search (nested groups or entries outside it)", len(unresolved))})
		}
		src.Groups = append(src.Groups, sg)
	}
	return src, skips
}

// Settings decodes and checks an integration's stored settings.
func SettingsOf(in *directory.Integration) (*Settings, error) {
	var s Settings
	if err := json.Unmarshal(in.Settings, &s); err != nil {
		return nil, fmt.Errorf("integration %q: its settings do not decode: %w", in.Name, err)
	}
	if err := s.Normalize(); err != nil {
		return nil, fmt.Errorf("integration %q: %w", in.Name, err)
	}
	return &s, nil
}

// Run reads integration in's source and applies it to org (dryRun:
// reports what it would do, writing nothing).
func Run(ctx context.Context, d *directory.Directory, org string, in *directory.Integration, dryRun bool, log *slog.Logger) (*directory.SyncReport, error) {
	return RunWith(ctx, d, org, in, RunOptions{DryRun: dryRun}, log)
}

// RunOptions are the choices of one run.
type RunOptions struct {
	DryRun bool
	// Full reads every user even when an incremental run is possible.
	Full bool
	// Adopt and AdoptBy migrate users (see directory.SyncOptions).
	Adopt, AdoptBy string
}

// RunWith is Run with the options of a migration.
func RunWith(ctx context.Context, d *directory.Directory, org string, in *directory.Integration, ro RunOptions, log *slog.Logger) (*directory.SyncReport, error) {
	dryRun := ro.DryRun
	s, err := SettingsOf(in)
	if err != nil {
		return nil, err
	}
	pw, err := d.IntegrationSecret(in)
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	holder := fmt.Sprintf("%s/run-%d", process, runs.Add(1)) // each run its own: the scheduler and the API in one process too
	if !dryRun {                                             // one run at a time per integration, across processes
		if err := d.BeginRun(ctx, in.ID, holder, runLease); err != nil {
			return nil, err
		}
	}
	started := time.Now().UTC()
	if !dryRun { // a long run keeps its lease
		renewed := make(chan struct{})
		defer close(renewed)
		go func() {
			t := time.NewTicker(runLease / 3)
			defer t.Stop()
			for {
				select {
				case <-renewed:
					return
				case <-t.C:
					if err := d.RenewRun(context.WithoutCancel(ctx), in.ID, holder, runLease); err != nil {
						log.Warn("sync: renewing the run's lease", "integration", in.Name, "err", err)
					}
				}
			}
		}()
	}
	rep, m, err := read(ctx, d, org, in, s, pw, ro, log.With("integration", in.Name))
	if !dryRun {
		set := func(st *directory.IntegrationState) {
			st.Mark = m.latest
			if m.full {
				st.LastFull = started
			}
		}
		if endErr := d.EndRun(context.WithoutCancel(ctx), in.ID, holder, rep, err, set); endErr != nil && err == nil {
			err = endErr
		}
	}
	return rep, err
}

// FullEvery is how often a run reads every user even when the source
// allows incremental runs.
const FullEvery = 24 * time.Hour

// marks is what a run saw, for the next one.
type marks struct {
	full   bool
	latest time.Time // the latest modification time of a user
}

// incrementalSince is where an incremental run of in starts, or zero for
// a full run: the last run must have succeeded, seen modification times,
// and a full run must be recent.
func incrementalSince(in *directory.Integration, ro RunOptions) time.Time {
	st := directory.StateOf(in)
	if ro.Full || ro.Adopt != "" || st.LastError != "" || st.Mark.IsZero() || st.LastFull.IsZero() || time.Since(st.LastFull) > FullEvery {
		return time.Time{}
	}
	return st.Mark
}

// runLease bounds how long a crashed run keeps others from running.
const runLease = time.Hour

// process names this process in run leases; runs counts its runs.
var (
	process = func() string {
		h, _ := os.Hostname()
		return fmt.Sprintf("%s:%d", h, os.Getpid())
	}()
	runs atomic.Int64
)

func read(ctx context.Context, d *directory.Directory, org string, in *directory.Integration, s *Settings, pw []byte, ro RunOptions, log *slog.Logger) (*directory.SyncReport, marks, error) {
	src, skips, m, err := readSource(ctx, s, pw, incrementalSince(in, ro), log)
	if err != nil {
		return nil, m, err
	}
	opt := Options(s, ro.DryRun)
	opt.Adopt, opt.AdoptBy = ro.Adopt, ro.AdoptBy
	rep, err := d.Sync(ctx, org, in.ID, src, opt)
	if rep != nil {
		rep.Skipped = append(rep.Skipped, skips...)
		rep.Incremental = !m.full
	}
	return rep, m, err
}

// Read reads the source s describes (users, groups when a group base is
// set, the external endpoint's answer) and plans it: what a consumer
// configured with s sees of the directory.
func Read(ctx context.Context, s *Settings, bindPassword []byte, log *slog.Logger) (*directory.SyncSource, []directory.SyncSkip, error) {
	src, skips, _, err := readSource(ctx, s, bindPassword, time.Time{}, log)
	return src, skips, err
}

// readSource reads every user, or (since not zero) the users changed since
// then and the ids of every user.
func readSource(ctx context.Context, s *Settings, bindPassword []byte, since time.Time, log *slog.Logger) (*directory.SyncSource, []directory.SyncSkip, marks, error) {
	m := marks{full: since.IsZero()}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := Dial(ctx, s, bindPassword, log)
	if err != nil {
		return nil, nil, m, err
	}
	defer c.Close()
	var users, present []SourceUser
	var uskips []Skip
	if m.full {
		users, uskips, err = c.Users(ctx)
		present = users
	} else {
		present, users, uskips, err = c.UsersChanged(ctx, since)
	}
	if err != nil {
		return nil, nil, m, err
	}
	for _, u := range present {
		if u.Modified.After(m.latest) {
			m.latest = u.Modified.UTC()
		}
	}
	var groups []SourceGroup
	var gskips []Skip
	if s.GroupBase != "" {
		if groups, gskips, err = c.Groups(ctx); err != nil {
			return nil, nil, m, err
		}
	}
	var extra Extra
	if s.ExternalURL != "" {
		if extra, err = fetchExtra(ctx, s); err != nil {
			return nil, nil, m, err
		}
	}
	src, skips := plan(s, users, present, groups, extra)
	if !m.full {
		src.Full = false
		for _, u := range present {
			src.Present = append(src.Present, u.ExternalID)
		}
	}
	var all []directory.SyncSkip
	for _, k := range append(uskips, gskips...) {
		all = append(all, directory.SyncSkip{ExternalID: k.DN, Reason: k.Reason})
	}
	return src, append(all, skips...), m, nil
}
