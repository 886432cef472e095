// Package wrr is the weighted round robin the operator's Caddy modules share: nginx's
// smooth algorithm, whose state outlives a config reload. Each pick adds every
// candidate's weight to its current value, takes the largest (the first on a tie) and
// subtracts the candidates' total from it. With every candidate available the picks
// repeat with a period of the sum of the weights, so any run of that many consecutive
// picks gives each candidate exactly its weight, and the candidates are interleaved
// (95/5 sends one request in 20 to the second, not 5 in a row after 95).
//
// Caddy provisions new module instances for every config it loads, in the same
// process, before it cleans up the old ones. A Picker acquired with a key shares its
// state with every other Picker of the same key and weights through a refcounted pool,
// so a new config continues where the old one stopped; other weights under the same
// key start afresh. The package picks indices; it must not know about HTTP or proxies.
package wrr

import (
	"fmt"
	"strconv"
	"sync"

	"github.com/caddyserver/caddy/v2"
)

// states holds the state of every keyed split of the running configs.
var states = caddy.NewUsagePool()

// Picker chooses indices in proportion to weights.
type Picker struct {
	// poolKey is the key in states; empty when the state is the Picker's own.
	poolKey string
	s       *state
}

// state is what picks of one split share.
type state struct {
	mu      sync.Mutex
	weights []int
	current []int
}

// Destruct implements caddy.Destructor; the state holds no resources.
func (*state) Destruct() error { return nil }

// Acquire returns a Picker over weights (index i has weight weights[i]), sharing its
// state with the other Pickers of the same key and weights. An empty key gives a Picker
// with a state of its own. Release it when the module is cleaned up.
func Acquire(key string, weights []int) (*Picker, error) {
	if err := Check(weights); err != nil {
		return nil, err
	}
	if key == "" {
		return &Picker{s: newState(weights)}, nil
	}
	pk := poolKey(key, weights)
	v, _, err := states.LoadOrNew(pk, func() (caddy.Destructor, error) { return newState(weights), nil })
	if err != nil {
		return nil, err
	}
	return &Picker{poolKey: pk, s: v.(*state)}, nil
}

// Check reports weights that cannot be picked from: none, a negative one, or no
// positive one.
func Check(weights []int) error {
	if len(weights) == 0 {
		return fmt.Errorf("weights: at least one is needed")
	}
	total := 0
	for i, w := range weights {
		if w < 0 {
			return fmt.Errorf("weights[%d]: %d must not be negative", i, w)
		}
		total += w
	}
	if total <= 0 {
		return fmt.Errorf("weights: at least one must be positive")
	}
	return nil
}

// Release drops the Picker's share of its state; the last one frees it.
func (p *Picker) Release() error {
	if p == nil || p.poolKey == "" {
		return nil
	}
	_, err := states.Delete(p.poolKey)
	return err
}

// Next returns the next index among those available reports true for (all when
// available is nil), or -1 when none of positive weight is. Unavailable indices sit
// out the pick: their current values stay as they are, and the others share the
// requests in proportion to their weights.
func (p *Picker) Next(available func(i int) bool) int {
	return p.s.next(available)
}

func newState(weights []int) *state {
	return &state{weights: append([]int(nil), weights...), current: make([]int, len(weights))}
}

func (s *state) next(available func(i int) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	best, total := -1, 0
	for i, w := range s.weights {
		if w == 0 || (available != nil && !available(i)) {
			continue
		}
		s.current[i] += w
		total += w
		if best < 0 || s.current[i] > s.current[best] {
			best = i
		}
	}
	if best >= 0 {
		s.current[best] -= total
	}
	return best
}

// poolKey joins the caller's key and the weights, so that changed weights (or a
// changed number of candidates) start from a fresh state.
func poolKey(key string, weights []int) string {
	b := append(make([]byte, 0, len(key)+8*len(weights)), key...)
	for _, w := range weights {
		b = strconv.AppendInt(append(b, 0), int64(w), 10)
	}
	return string(b)
}
