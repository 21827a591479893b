//go:build race

package test

// raceEnabled reports whether the tests run under the race detector; the
// server binary under test is then built with it too.
const raceEnabled = true
