//go:build race

package dit

// raceEnabled: under the race detector sync.Pool drops items at random, so
// pooled buffers are allocated again and allocation budgets do not hold.
const raceEnabled = true
