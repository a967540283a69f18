package ldapsource

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dirgate/dirgate/internal/directory"
)

// Runner runs syncs asked for by a request (the API's, the console's):
// a run goes on after its request ends, so that a large first sync is not
// cut by the request's timeout or a closed browser, and the request waits
// for it only as long as it likes (Job.Wait). One run per integration at
// a time in this process; across processes the directory's run lease
// decides. Safe for concurrent use; the zero Runner runs in
// context.Background.
type Runner struct {
	Dir *directory.Directory
	Log *slog.Logger
	// Context ends the runs it started (the server's shutdown); nil:
	// context.Background. A run cut short is finished by the next one.
	Context context.Context

	mu   sync.Mutex
	jobs map[string]*Job // running here, by integration id
	wg   sync.WaitGroup
}

// Job is one run started by a Runner.
type Job struct {
	Started time.Time
	done    chan struct{}
	report  *directory.SyncReport
	err     error
}

// Start starts a run of in (org's) with ro, unless one started by r runs
// already: then that one is returned, and started is false.
func (r *Runner) Start(org string, in *directory.Integration, ro RunOptions) (job *Job, started bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[in.ID]; j != nil {
		return j, false
	}
	if r.jobs == nil {
		r.jobs = map[string]*Job{}
	}
	ctx := r.Context
	if ctx == nil {
		ctx = context.Background()
	}
	j := &Job{Started: time.Now().UTC(), done: make(chan struct{})}
	r.jobs[in.ID] = j
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			r.mu.Lock()
			delete(r.jobs, in.ID)
			r.mu.Unlock()
			close(j.done)
		}()
		j.report, j.err = RunWith(ctx, r.Dir, org, in, ro, r.Log)
		if j.err != nil && j.report != nil && r.Log != nil {
			r.Log.Warn("sync stopped part way; the next run does the rest", "integration", in.Name,
				"created", j.report.Created, "updated", j.report.Updated, "err", j.err)
		}
	}()
	return j, true
}

// Wait waits for every run r started to end (end them first with
// Context).
func (r *Runner) Wait() { r.wg.Wait() }

// Running says whether a run of integration id started by r goes on,
// and when it started: true from Start on, before the run has taken its
// lease in the store.
func (r *Runner) Running(id string) (started time.Time, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if j := r.jobs[id]; j != nil {
		return j.Started, true
	}
	return time.Time{}, false
}

// Wait waits up to d (or until ctx ends) for the run to end, and says
// whether it did; then Result holds its outcome.
func (j *Job) Wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-j.done:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// Result is the ended run's report (partial when it failed part way) and
// error; nil, nil while it runs.
func (j *Job) Result() (*directory.SyncReport, error) {
	select {
	case <-j.done:
		return j.report, j.err
	default:
		return nil, nil
	}
}
