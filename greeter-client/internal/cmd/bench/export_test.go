package bench

import "time"

// SetProgressEvery sets how often the progress line of o's run is drawn, so
// a test can have it drawn before the first call ends.
func SetProgressEvery(o *Options, d time.Duration) { o.progressEvery = d }
