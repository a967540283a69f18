//go:build !race

package dit

const raceEnabled = false
