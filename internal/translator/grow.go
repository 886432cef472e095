package translator

import (
	"slices"
	"unsafe"
)

// appendDoubling appends v to s, doubling the capacity when s is full. The lists of a
// large translation (route statuses, a listener's routes) reach tens of thousands of
// entries; append's gentler growth for large slices would copy them many more times.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 4))
	}
	return append(s, v)
}

// slab hands out short slices cut from larger blocks: the many small lists of a large
// translation (conditions, backends, header matches) in a few allocations. Each slice
// is capped at its length, so appending to it never writes into a neighbour.
type slab[T any] struct{ free []T }

// slabBytes is the largest size of one block: the largest the allocator hands out
// from its per-thread caches. Blocks start small and double, so that a small
// translation allocates little.
const slabBytes = 32 << 10

// take returns an empty slice with capacity n.
func (s *slab[T]) take(n int) []T {
	if n > cap(s.free)-len(s.free) {
		block := max(slabBytes/int(unsafe.Sizeof(*new(T))), 8)
		s.free = make([]T, 0, max(n, min(2*cap(s.free), block), 8))
	}
	at := len(s.free)
	s.free = s.free[:at+n]
	return s.free[at : at : at+n]
}
