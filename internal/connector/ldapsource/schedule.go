package ldapsource

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/dirgate/dirgate/internal/directory"
)

// ParseSchedule parses a cron rule of five fields (minute hour day month
// weekday, as crontab(5); also @hourly, @daily, @every 30m).
func ParseSchedule(rule string) (cron.Schedule, error) {
	s, err := cron.ParseStandard(rule)
	if err != nil {
		return nil, fmt.Errorf("%q is not a cron rule of five fields such as %q: %w", rule, DefaultSchedule, err)
	}
	return s, nil
}

// Due reports whether an integration with schedule rule, last started at
// last (zero: never; then created counts), is due at now.
func Due(rule string, created, last, now time.Time) (bool, error) {
	if rule == "" || rule == ScheduleManual {
		return false, nil
	}
	s, err := ParseSchedule(rule)
	if err != nil {
		return false, err
	}
	from := last
	if from.IsZero() {
		from = created
	}
	return !s.Next(from).After(now), nil
}

// Scheduler runs every org's integrations on their schedules. Several
// processes may run one each: the run lease (directory.BeginRun) lets
// one run an integration at a time.
type Scheduler struct {
	Dir *directory.Directory
	Log *slog.Logger
	// Now is the clock (default time.Now); Every how often schedules are
	// checked (default 30 s).
	Now   func() time.Time
	Every time.Duration

	metrics *syncMetrics
}

type syncMetrics struct {
	runs     *prometheus.CounterVec
	duration *prometheus.HistogramVec
	changes  *prometheus.CounterVec
}

// Register adds the sync metrics to reg.
func (s *Scheduler) Register(reg prometheus.Registerer) error {
	m := &syncMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dirgate_sync_runs_total",
			Help: "Directory integration sync runs, by org, integration and result (ok, error)."}, []string{"org", "integration", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "dirgate_sync_duration_seconds",
			Help: "How long directory integration sync runs take.", Buckets: prometheus.ExponentialBuckets(0.1, 2, 14)}, []string{"org", "integration"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "dirgate_sync_changes_total",
			Help: "Changes made by directory integration syncs, by kind."}, []string{"org", "integration", "kind"}),
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.changes} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	s.metrics = m
	return nil
}

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Loop checks the schedules until ctx ends.
func (s *Scheduler) Loop(ctx context.Context) {
	every := s.Every
	if every <= 0 {
		every = 30 * time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick runs, one after the other, the integrations due now.
func (s *Scheduler) Tick(ctx context.Context) {
	log := s.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	orgs, err := s.Dir.Orgs(ctx)
	if err != nil {
		log.Warn("sync schedule: listing orgs", "err", err)
		return
	}
	for _, o := range orgs {
		ins, err := s.Dir.Integrations(ctx, o.Name)
		if err != nil {
			log.Warn("sync schedule: listing integrations", "org", o.Name, "err", err)
			continue
		}
		for _, in := range ins {
			if ctx.Err() != nil {
				return
			}
			set, err := SettingsOf(in)
			if err != nil {
				log.Warn("sync schedule: integration settings", "org", o.Name, "integration", in.Name, "err", err)
				continue
			}
			st := directory.StateOf(in)
			due, err := Due(set.Schedule, in.Created, st.LastStarted, s.now())
			if err != nil || !due {
				continue
			}
			s.run(ctx, log, o.Name, in)
		}
	}
}

func (s *Scheduler) run(ctx context.Context, log *slog.Logger, org string, in *directory.Integration) {
	start := time.Now()
	rep, err := Run(ctx, s.Dir, org, in, false, log)
	if errors.Is(err, directory.ErrRunning) {
		return // another process runs it
	}
	result := "ok"
	if err != nil {
		result = "error"
		log.Warn("scheduled sync failed", "org", org, "integration", in.Name, "err", err)
	} else {
		log.Info("scheduled sync", "org", org, "integration", in.Name, "created", rep.Created, "updated", rep.Updated,
			"deactivated", rep.Deactivated, "suspended", rep.Suspended, "skipped", len(rep.Skipped), "elapsed", time.Since(start).Round(time.Millisecond))
	}
	s.observe(org, in.Name, result, time.Since(start), rep)
}

// observe records a run in the metrics (when registered).
func (s *Scheduler) observe(org, name, result string, took time.Duration, rep *directory.SyncReport) {
	m := s.metrics
	if m == nil {
		return
	}
	m.runs.WithLabelValues(org, name, result).Inc()
	m.duration.WithLabelValues(org, name).Observe(took.Seconds())
	if rep == nil {
		return
	}
	for kind, n := range map[string]int{"created": rep.Created, "updated": rep.Updated, "reactivated": rep.Reactivated,
		"deactivated": rep.Deactivated, "suspended": rep.Suspended, "members_added": rep.MembersAdded, "members_removed": rep.MembersRemoved,
		"groups_created": rep.GroupsCreated, "skipped": len(rep.Skipped)} {
		if n > 0 {
			m.changes.WithLabelValues(org, name, kind).Add(float64(n))
		}
	}
}
