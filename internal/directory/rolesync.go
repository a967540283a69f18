package directory

import "context"

// EventRoleSync is a run of `dirgate pgsync` (connector pgroles), which
// keeps a PostgreSQL's roles in step with an org. Okta has no such event;
// it is named like its import's.
const EventRoleSync = "system.pgsync.complete"

func init() { displayMessages[EventRoleSync] = "PostgreSQL role sync complete" }

// RecordRoleSync puts a role sync run against target (a PostgreSQL named
// user@host:port/database, never with its password) in the system log of
// org: its counts in summary, or why it failed (runErr). The connector's
// messages hold no secret.
func (d *Directory) RecordRoleSync(ctx context.Context, org, target, summary string, runErr error) error {
	o, err := d.Org(ctx, org)
	if err != nil {
		return err
	}
	out := LogOutcome{Result: ResultSuccess, Reason: summary}
	if runErr != nil {
		out = LogOutcome{Result: ResultFailure, Reason: runErr.Error()}
	}
	d.emit(o.ID, &LogEvent{EventType: EventRoleSync, DisplayMessage: displayMessages[EventRoleSync], Actor: actorOf(ctx),
		Target: []LogTarget{{ID: target, Type: "PostgreSQL", DisplayName: target}}, Outcome: out})
	return nil
}
