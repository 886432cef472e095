package controller

import (
	"time"

	"k8s.io/utils/clock"
)

// clocked gives a type the time from a clock that tests replace; the real one when unset.
type clocked struct {
	clock clock.PassiveClock
}

func (c clocked) now() time.Time {
	if c.clock == nil {
		return time.Now()
	}
	return c.clock.Now()
}
