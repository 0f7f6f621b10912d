package api

import "time"

// SetStreamTiming shortens the stream's heartbeat and poll for a test and
// returns the function that restores them.
func SetStreamTiming(heartbeat, poll time.Duration) (restore func()) {
	hb, p := heartbeatEvery, streamPoll
	heartbeatEvery, streamPoll = heartbeat, poll
	return func() { heartbeatEvery, streamPoll = hb, p }
}
