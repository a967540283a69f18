package postgres

// LatestVersion is the schema version this dirgate migrates to.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil {
		panic(err)
	}
	return len(ms)
}

// SetPruneBatch sets how many events one PruneEvents transaction of s
// deletes.
func SetPruneBatch(s *Store, n int) { s.pruneBatch = n }

// MapErr is mapErr.
var MapErr = mapErr
