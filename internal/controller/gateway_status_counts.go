package controller

import (
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// countsInterval is the least time between a Gateway's (or ListenerSet's) status writes
// when a write would change nothing but its listeners' attachedRoutes. Without it, every
// route attached or detached costs the API server a write of the Gateway's status, as
// much as the route's own status: a burst of route changes doubles the API server's
// work. The counts of a burst are written once, at most this long after the change; any
// other change of the Gateway's status (a condition, an address, a listener) is written
// at once, with the counts as they are.
const countsInterval = time.Second

// countsOnly reports whether next, a status of a Gateway or ListenerSet other than
// current, differs from it in its listeners' attachedRoutes alone; zero sets those of a
// status to zero.
func countsOnly[S any, P interface {
	*S
	DeepCopy() *S
}](current, next P, zero func(*S)) bool {
	a, b := current.DeepCopy(), next.DeepCopy()
	zero(a)
	zero(b)
	return equality.Semantic.DeepEqual(a, b)
}

func zeroGatewayCounts(s *gwapiv1.GatewayStatus) {
	for i := range s.Listeners {
		s.Listeners[i].AttachedRoutes = 0
	}
}

func zeroListenerSetCounts(s *gwapiv1.ListenerSetStatus) {
	for i := range s.Listeners {
		s.Listeners[i].AttachedRoutes = 0
	}
}

// statusWriteTimes remembers when the status of each Gateway, or each ListenerSet, was
// last written.
type statusWriteTimes struct {
	perGateway[time.Time]
	clocked
}

// countsWait is how long a write of the status of obj that changes only its counts must
// wait: until countsInterval after its last status write.
func (t *statusWriteTimes) countsWait(obj types.NamespacedName) time.Duration {
	last, ok := t.load(obj)
	if !ok {
		return 0
	}
	return max(0, last.Add(countsInterval).Sub(t.now()))
}

// wrote records a status write of obj made now.
func (t *statusWriteTimes) wrote(obj types.NamespacedName) {
	t.store(obj, t.now())
}
