package pgroles

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dirgate/dirgate/internal/connector/ldapsource"
	"github.com/dirgate/dirgate/internal/directory"
)

// SyncLogged is Sync followed by its entry in org's system log (real
// runs only: a dry run changes nothing, and a run refused with ErrBusy
// did not happen). The CLI and the scheduler both run this way.
func SyncLogged(ctx context.Context, d *directory.Directory, org, url string, cfg *Config, src Source, opt Options) (*Report, error) {
	rep, err := Sync(ctx, url, cfg, src, opt)
	if opt.DryRun || errors.Is(err, ErrBusy) {
		return rep, err
	}
	summary := ""
	if rep != nil {
		summary = rep.Summary()
	}
	if lerr := d.RecordRoleSync(ctx, org, TargetName(url), summary, err); lerr != nil && err == nil {
		err = lerr
	}
	return rep, err
}

// Job is a mapping that `dirgate serve` runs on its schedule.
type Job struct {
	Org    string // the org read (or, for an LDAP source, logged to)
	Name   string // the mapping file, for the logs
	Config *Config
	URL    string // the target, Config.TargetURL
	Source Source

	schedule cron.Schedule
}

// Scheduler runs jobs on their schedules until its context ends. Nodes
// that run the same job are kept one at a time by the target database's
// advisory lock: the others find it busy and wait for the next time.
type Scheduler struct {
	Dir  *directory.Directory
	Jobs []*Job
	Log  *slog.Logger
	// Now is the clock (default time.Now), After the timer (default
	// time.After), for tests.
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Check parses the jobs' schedules; a job with none (manual) is an error,
// as serve would never run it.
func (s *Scheduler) Check() error {
	for _, j := range s.Jobs {
		if j.Config.Schedule == ldapsource.ScheduleManual {
			return errors.New(j.Name + ": schedule is manual, so serve would never run it: give a cron rule (schedule: \"*/15 * * * *\"), or run 'dirgate pgsync' yourself")
		}
		sc, err := ldapsource.ParseSchedule(j.Config.Schedule)
		if err != nil {
			return errors.New(j.Name + ": " + err.Error())
		}
		if sc.Next(time.Now()).IsZero() {
			return errors.New(j.Name + ": schedule " + j.Config.Schedule + " never comes")
		}
		j.schedule = sc
	}
	return nil
}

// Loop runs each job at its times until ctx ends, and returns when the
// runs under way have ended. Check must have passed.
func (s *Scheduler) Loop(ctx context.Context) {
	var wg sync.WaitGroup
	for _, j := range s.Jobs {
		wg.Go(func() {
			for {
				now := s.now()
				select {
				case <-ctx.Done():
					return
				case <-s.after(j.schedule.Next(now).Sub(now)):
				}
				s.Run(ctx, j)
			}
		})
	}
	wg.Wait()
}

// Run runs j once and logs how it went.
func (s *Scheduler) Run(ctx context.Context, j *Job) (*Report, error) {
	rep, err := SyncLogged(ctx, s.Dir, j.Org, j.URL, j.Config, j.Source, Options{})
	switch {
	case errors.Is(err, ErrBusy):
		s.Log.Info("pgsync: another run holds the target; this one waits for the next time", "org", j.Org, "mapping", j.Name)
	case err != nil:
		s.Log.Error("pgsync failed", "org", j.Org, "mapping", j.Name, "err", err)
	default:
		s.Log.Info("pgsync", "org", j.Org, "mapping", j.Name, "target", rep.Target, "report", rep.Summary())
	}
	return rep, err
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) after(d time.Duration) <-chan time.Time {
	if s.After != nil {
		return s.After(d)
	}
	return time.After(d)
}
