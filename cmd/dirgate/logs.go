package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/dirgate/dirgate/internal/directory"
	"github.com/dirgate/dirgate/internal/store"
)

// followEvery is how often logs --follow asks for new events.
var followEvery = time.Second

type logsFlags struct {
	target
	since, until, filter, output string
	follow                       bool
}

func (a *app) logsCmd() *cobra.Command {
	var f logsFlags
	c := &cobra.Command{
		Use:   "logs --data DIR --org ORG [--since T] [--until T] [--filter 'eventType eq \"TYPE\"'] [--follow] [--output text|json]",
		Short: "Print the org's system log (sign-ins and changes)",
		Long: `Prints the org's system log, oldest first: every sign-in attempt (LDAP binds)
with its outcome and reason, and every change to users, groups and roles.

--since and --until take an RFC 3339 time (2026-12-01T12:00:00Z) or a duration
ago (90m, 24h). --filter takes Okta's expression 'eventType eq "TYPE"'.
--output text prints one line per event (published, eventType, outcome, actor,
target, client IP, reason); json prints each event's document on a line of its
own. --follow keeps printing new events until interrupted.`,
		Example: `  dirgate logs --org acme --since 1h
  dirgate logs --org acme --filter 'eventType eq "user.authentication.auth_via_ldap"' --follow
  dirgate logs --org acme --output json | jq .outcome`,
		Args: cobra.NoArgs,
		RunE: a.do(func(*cobra.Command, []string) error { return a.logs(&f) }),
	}
	addTargetFlags(c, &f.target)
	fl := c.Flags()
	fl.StringVar(&f.since, "since", "", "only events published at or after `T` (RFC 3339, or a duration ago such as 1h)")
	fl.StringVar(&f.until, "until", "", "only events published before `T` (RFC 3339, or a duration ago)")
	fl.StringVar(&f.filter, "filter", "", `only events matching `+"`EXPR`"+`: eventType eq "TYPE"`)
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing new events (polls every second) until interrupted")
	fl.StringVarP(&f.output, "output", "o", "text", "output `FORMAT`: text or json")
	return c
}

func (a *app) logs(f *logsFlags) error {
	now := time.Now()
	var q directory.EventFilter
	var err error
	if q.Since, err = parseWhen("--since", f.since, now); err != nil {
		return err
	}
	if q.Until, err = parseWhen("--until", f.until, now); err != nil {
		return err
	}
	if q.EventType, err = parseEventFilter(f.filter); err != nil {
		return err
	}
	if f.output != "text" && f.output != "json" {
		return usagef("--output must be text or json, not %q", f.output)
	}
	return a.withDirectory(&f.target, func(ctx context.Context, d *directory.Directory) error {
		for {
			for { // every page available now
				evs, err := d.Events(ctx, f.org, q)
				if err != nil {
					if f.follow && ctx.Err() != nil {
						return nil
					}
					return err
				}
				for _, e := range evs {
					if err := a.printEvent(e, f.output == "json"); err != nil {
						return err
					}
					q.AfterSeq = e.Seq
				}
				if len(evs) < directory.MaxEventsPage {
					break
				}
			}
			if !f.follow {
				return nil
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(followEvery):
			}
		}
	})
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usagef("%s %q: want an RFC 3339 time (2026-12-01T12:00:00Z) or a duration ago (90m, 24h)", flag, s)
}

var eventFilterRE = regexp.MustCompile(`^\s*eventType\s+eq\s+"([^"\\]+)"\s*$`)

// parseEventFilter reads Okta's filter subset: eventType eq "TYPE".
func parseEventFilter(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	m := eventFilterRE.FindStringSubmatch(s)
	if m == nil {
		return "", usagef(`--filter %q: the supported filter is eventType eq "TYPE" (e.g. eventType eq "user.authentication.auth_via_ldap")`, s)
	}
	return m[1], nil
}

func (a *app) printEvent(e *store.Event, asJSON bool) error {
	if asJSON {
		_, err := fmt.Fprintf(a.stdout, "%s\n", e.Doc)
		return err
	}
	var doc directory.LogEvent
	if err := json.Unmarshal(e.Doc, &doc); err != nil {
		return fmt.Errorf("event %d (%s): %w", e.Seq, e.UUID, err)
	}
	_, err := fmt.Fprintln(a.stdout, eventLine(e, &doc))
	return err
}

// eventLine is an event as one line of text.
func eventLine(e *store.Event, doc *directory.LogEvent) string {
	var targets []string
	for _, t := range doc.Target {
		targets = append(targets, firstOf(t.AlternateID, t.DisplayName, t.ID))
	}
	ip := ""
	if doc.Client != nil {
		ip = doc.Client.IPAddress
	}
	fields := []string{
		e.Published.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
		e.EventType,
		orDash(doc.Outcome.Result),
		orDash(firstOf(doc.Actor.AlternateID, doc.Actor.DisplayName, doc.Actor.ID)),
		orDash(strings.Join(targets, ",")),
		orDash(ip),
	}
	line := strings.Join(fields, "  ")
	if doc.Outcome.Reason != "" {
		line += "  " + oneLine(doc.Outcome.Reason)
	}
	return line
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
