package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
)

// outputFormat is --output for the commands that print records.
type outputFormat struct{ v string }

func addOutputFlag(c *cobra.Command, o *outputFormat) {
	c.Flags().StringVarP(&o.v, "output", "o", "table", "output `FORMAT`: table or json")
}

func (o *outputFormat) check() error {
	switch o.v {
	case "table", "json":
		return nil
	}
	return usagef("--output must be table or json, not %q", o.v)
}

func (o *outputFormat) json() bool { return o.v == "json" }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func table(w io.Writer, header []string, rows [][]string) error {
	return rowsOut(w, append([][]string{header}, rows...))
}

// rowsOut writes rows as aligned columns.
func rowsOut(w io.Writer, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// userView is a user as the CLI shows it: no credential, only whether one
// is set. Times are to the millisecond (msTime).
type userView struct {
	ID              string            `json:"id"`
	Status          string            `json:"status"`
	Type            string            `json:"type"`
	Roles           []string          `json:"roles"`
	PasswordSet     bool              `json:"passwordSet"`
	Created         time.Time         `json:"created"`
	Activated       *time.Time        `json:"activated,omitempty"`
	StatusChanged   *time.Time        `json:"statusChanged,omitempty"`
	LastLogin       *time.Time        `json:"lastLogin,omitempty"`
	LastUpdated     *time.Time        `json:"lastUpdated,omitempty"`
	PasswordChanged *time.Time        `json:"passwordChanged,omitempty"`
	Profile         directory.Profile `json:"profile"`
	Groups          []string          `json:"groups,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// msTime is t in UTC to the millisecond: what the REST API gives (Okta's
// timestamps), so that --output json is the same with --data and with
// --server.
func msTime(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func msTimePtr(t time.Time) *time.Time { return timePtr(msTime(t)) }

func viewUser(u *directory.User) userView {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return userView{
		ID: u.ID, Status: u.Status, Type: u.Type, Roles: roles, PasswordSet: u.PasswordHash != "",
		Created: msTime(u.Created), Activated: msTimePtr(u.Activated), StatusChanged: msTimePtr(u.StatusChanged),
		LastLogin: msTimePtr(u.LastLogin), LastUpdated: msTimePtr(u.LastUpdated),
		PasswordChanged: msTimePtr(u.PasswordChanged), Profile: u.Profile,
	}
}

func rolesText(r []string) string {
	if len(r) == 0 {
		return "-"
	}
	return strings.Join(r, ",")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timeText(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
