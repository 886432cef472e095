package controller

import (
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// countsInterval is the least time between a Gateway's status writes when a write would
// change nothing but its listeners' attachedRoutes. Without it, every route attached or
// detached costs the API server a write of the Gateway's status, as much as the route's
// own status: a burst of route changes doubles the API server's work. The counts of a
// burst are written once, at most this long after the change; any other change of the
// Gateway's status (a condition, an address, a listener) is written at once, with the
// counts as they are.
const countsInterval = time.Second

// countsOnly reports whether next differs from current in its listeners' attachedRoutes
// alone.
func countsOnly(current, next *gwapiv1.GatewayStatus) bool {
	if len(current.Listeners) != len(next.Listeners) {
		return false
	}
	same := *next
	same.Listeners = slices.Clone(next.Listeners)
	for i := range same.Listeners {
		if same.Listeners[i].Name != current.Listeners[i].Name {
			return false
		}
		same.Listeners[i].AttachedRoutes = current.Listeners[i].AttachedRoutes
	}
	return equality.Semantic.DeepEqual(current, &same)
}

// statusWriteTimes remembers when each Gateway's status was last written.
type statusWriteTimes struct {
	perGateway[time.Time]
	// now is the clock; time.Now when nil.
	now func() time.Time
}

func (t *statusWriteTimes) clock() time.Time {
	if t.now != nil {
		return t.now()
	}
	return time.Now()
}

// countsWait is how long a write of gw's status that changes only its counts must wait:
// until countsInterval after its last status write.
func (t *statusWriteTimes) countsWait(gw types.NamespacedName) time.Duration {
	last, ok := t.load(gw)
	if !ok {
		return 0
	}
	return max(0, last.Add(countsInterval).Sub(t.clock()))
}

// wrote records a status write of gw made now.
func (t *statusWriteTimes) wrote(gw types.NamespacedName) {
	t.store(gw, t.clock())
}
