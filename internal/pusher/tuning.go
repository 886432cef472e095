package pusher

import "time"

// Tuning is the timing of one Gateway's pushes. Zero fields take the Pusher's defaults.
type Tuning struct {
	// Timeout bounds one push to one pod. Default 10s.
	Timeout time.Duration
	// MaxConcurrent bounds the pods pushed to at once. Default 16.
	MaxConcurrent int
	// InitialBackoff is the wait before a failed push of a configuration to a pod is tried
	// again; it doubles with each failure in a row up to MaxBackoff. Defaults 1s and 1m.
	InitialBackoff, MaxBackoff time.Duration
	// MinInterval is the least time between the end of one push to a Gateway's pods and
	// the start of the next (see Pusher.Wait). Zero or negative (the default) means none:
	// changes made while a push runs are still coalesced into the next one, because a
	// Gateway is reconciled by one worker at a time.
	MinInterval time.Duration
}

// Defaults of Tuning.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultMaxConcurrent  = 16
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
)

func (t Tuning) withDefaults() Tuning {
	return t.or(Tuning{
		Timeout: DefaultTimeout, MaxConcurrent: DefaultMaxConcurrent, InitialBackoff: DefaultInitialBackoff,
		MaxBackoff: DefaultMaxBackoff,
	})
}

// or fills t's zero fields from d.
func (t Tuning) or(d Tuning) Tuning {
	if t.Timeout <= 0 {
		t.Timeout = d.Timeout
	}
	if t.MaxConcurrent <= 0 {
		t.MaxConcurrent = d.MaxConcurrent
	}
	if t.InitialBackoff <= 0 {
		t.InitialBackoff = d.InitialBackoff
	}
	if t.MaxBackoff <= 0 {
		t.MaxBackoff = d.MaxBackoff
	}
	if t.MinInterval == 0 {
		t.MinInterval = d.MinInterval
	}
	return t
}

// backoff is the wait after the nth failure in a row (n ≥ 1).
func (t Tuning) backoff(n int) time.Duration {
	d := t.InitialBackoff
	for i := 1; i < n && d < t.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, t.MaxBackoff)
}
