package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// CreateAtVersion creates the database at path with only the first v
// migrations applied, as a dirgate that knew only those would have left it.
func CreateAtVersion(path string, v int) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	if v < 1 || v > len(ms) {
		return fmt.Errorf("no schema version %d", v)
	}
	db, err := sql.Open("sqlite", path+"?_foreign_keys=1&_journal_mode=WAL&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	return migrate(context.Background(), db, ms[:v])
}

// EventsQuery is the SELECT of pages that Events runs for q.
var EventsQuery = eventsQuery

// PruneQuery is the SELECT of the pages one PruneEvents transaction
// prunes.
const PruneQuery = prunePages

// SetPruneBatch sets how many events one PruneEvents transaction of s
// deletes.
func SetPruneBatch(s *Store, n int) { s.pruneBatch = n }

// SetPageBytes sets how many bytes of events (before coding) close an
// event page of s.
func SetPageBytes(s *Store, n int) { s.pageBytes = n }

// LatestVersion is the schema version this dirgate migrates to.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err)
	}
	return len(ms)
}

// EventCountsQuery is the SELECT EventCounts runs for q.
var EventCountsQuery = eventCountsQuery
