package compare

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dirgate/dirgate/bench/dataset"
	"github.com/dirgate/dirgate/bench/load"
	"github.com/dirgate/dirgate/internal/pgtest"
)

// pgStore is the private PostgreSQL cluster of dirgate-pg: Debian's
// server, on 127.0.0.1, with durable commits (synchronous_commit on, as
// dirgate requires; fsync off like every test cluster here, so the
// figures are of the database's work rather than of this machine's disk).
type pgStore struct {
	c   *pgtest.Cluster
	url string
}

func launchPG() (*pgStore, error) {
	c, err := pgtest.Launch(pgtest.Options{})
	if err != nil {
		return nil, err
	}
	p := &pgStore{c: c, url: "postgres://postgres@/dirgate?host=" + c.Sock + "&port=" + strconv.Itoa(c.Port) + "&sslmode=disable"}
	if out, err := p.psql("CREATE DATABASE dirgate"); err != nil {
		c.Stop()
		return nil, fmt.Errorf("CREATE DATABASE: %v\n%s", err, out)
	}
	return p, nil
}

func (p *pgStore) psql(sql string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql, p.c.SuperURL("")).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// size is the dirgate database's size on disk, as PostgreSQL counts it.
func (p *pgStore) size() string {
	out, err := p.psql("SELECT pg_database_size('dirgate')")
	if err != nil {
		return "?"
	}
	n, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MiB (PostgreSQL)", float64(n)/(1<<20))
}

// cpu is the CPU time PostgreSQL's processes have used so far: the
// postmaster with its finished children and every process it runs now.
func (p *pgStore) cpu() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(p.c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid: %v", err)
	}
	total, err := load.ProcessTreeCPU(pm)
	if err != nil {
		return 0, err
	}
	return total, nil
}

// startDirgatePG is dirgate loaded and served over a PostgreSQL store of
// its own; the cluster stops with the server.
func startDirgatePG(ctx context.Context, bin, dir string, set *dataset.Set) (*target, error) {
	pg, err := launchPG()
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	t, err := startDirgate(ctx, bin, dir, set, pg)
	if err != nil {
		pg.c.Stop()
		return nil, err
	}
	stop := t.stop
	t.stop = func() {
		stop()
		pg.c.Stop()
	}
	t.cpuOthers = pg.cpu
	return t, nil
}
