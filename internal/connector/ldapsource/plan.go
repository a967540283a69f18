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

// Plan turns what a read found into the directory's SyncSource (every
// user: a full run). Group members that are not users read in this run
// (nested groups, entries outside the user search) are left out and
// listed as skips.
func Plan(s *Settings, users []SourceUser, groups []SourceGroup, extra Extra) (*directory.SyncSource, []directory.SyncSkip) {
	src := &directory.SyncSource{Full: true, GroupSync: s.GroupBase != ""}
	byKey := make(map[string]string, len(users)) // normalised DN or login -> external id
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
		if s.GroupMemberForm == MemberLogin {
			byKey[u.Login] = u.ExternalID
		} else {
			byKey[NormalizeDN(u.DN)] = u.ExternalID
		}
	}
	var skips []directory.SyncSkip
	for _, g := range groups {
		name := g.Name
		if to, ok := s.GroupMap[g.Name]; ok {
			name = to
		}
		sg := directory.SyncGroup{ExternalID: g.ExternalID, Name: name, Description: g.Description}
		unresolved := 0
		for _, m := range g.Members {
			if ext, ok := byKey[m]; ok {
				sg.Members = append(sg.Members, ext)
			} else {
				unresolved++
			}
		}
		if unresolved > 0 {
			skips = append(skips, directory.SyncSkip{Login: g.Name, ExternalID: g.ExternalID,
				Reason: fmt.Sprintf("%d members are not users of the user search (nested groups or entries outside it)", unresolved)})
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
	if !dryRun { // one run at a time per integration, across processes
		if err := d.BeginRun(ctx, in.ID, holder, runLease); err != nil {
			return nil, err
		}
	}
	rep, err := read(ctx, d, org, in, s, pw, ro, log.With("integration", in.Name))
	if !dryRun {
		if endErr := d.EndRun(context.WithoutCancel(ctx), in.ID, holder, rep, err); endErr != nil && err == nil {
			err = endErr
		}
	}
	return rep, err
}

// runLease bounds how long a crashed run keeps others from running.
const runLease = time.Hour

// holder names this process in run leases.
var holder = func() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}()

func read(ctx context.Context, d *directory.Directory, org string, in *directory.Integration, s *Settings, pw []byte, ro RunOptions, log *slog.Logger) (*directory.SyncReport, error) {
	src, skips, err := Read(ctx, s, pw, log)
	if err != nil {
		return nil, err
	}
	opt := Options(s, ro.DryRun)
	opt.Adopt, opt.AdoptBy = ro.Adopt, ro.AdoptBy
	rep, err := d.Sync(ctx, org, in.ID, src, opt)
	if rep != nil {
		rep.Skipped = append(rep.Skipped, skips...)
	}
	return rep, err
}

// Read reads the source s describes (users, groups when a group base is
// set, the external endpoint's answer) and plans it: what a consumer
// configured with s sees of the directory.
func Read(ctx context.Context, s *Settings, bindPassword []byte, log *slog.Logger) (*directory.SyncSource, []directory.SyncSkip, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c, err := Dial(ctx, s, bindPassword, log)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	users, uskips, err := c.Users(ctx)
	if err != nil {
		return nil, nil, err
	}
	var groups []SourceGroup
	var gskips []Skip
	if s.GroupBase != "" {
		if groups, gskips, err = c.Groups(ctx); err != nil {
			return nil, nil, err
		}
	}
	var extra Extra
	if s.ExternalURL != "" {
		if extra, err = fetchExtra(ctx, s); err != nil {
			return nil, nil, err
		}
	}
	src, skips := Plan(s, users, groups, extra)
	var all []directory.SyncSkip
	for _, k := range append(uskips, gskips...) {
		all = append(all, directory.SyncSkip{ExternalID: k.DN, Reason: k.Reason})
	}
	return src, append(all, skips...), nil
}
