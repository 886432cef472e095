package translator

import (
	"iter"
	"slices"
	"unsafe"
)

// appendDoubling appends v to s, doubling the capacity when s is full. Some lists of a
// large translation (a listener's hostname claims) reach tens of thousands of entries;
// append's gentler growth for large slices would copy them many more times.
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

// blocks is a list kept in blocks that are never copied: a long list (a listener's
// routes) is allocated about once, rather than copied each time it doubles, and its
// elements never move. Blocks start small and double up to slabBytes, like slab's.
type blocks[T any] struct {
	list [][]T
	n    int
}

// add appends v.
func (b *blocks[T]) add(v T) {
	if len(b.list) == 0 || len(b.list[len(b.list)-1]) == cap(b.list[len(b.list)-1]) {
		size := 8
		if len(b.list) > 0 {
			size = max(min(2*cap(b.list[len(b.list)-1]), slabBytes/int(unsafe.Sizeof(v))), size)
		}
		b.list = append(b.list, make([]T, 0, size))
	}
	last := &b.list[len(b.list)-1]
	*last = append(*last, v)
	b.n++
}

// len returns the number of elements.
func (b *blocks[T]) len() int { return b.n }

// at returns the i-th element.
func (b *blocks[T]) at(i int) *T {
	for _, blk := range b.list {
		if i < len(blk) {
			return &blk[i]
		}
		i -= len(blk)
	}
	panic("blocks: index out of range")
}

// all yields the position and address of each element, in order.
func (b *blocks[T]) all() iter.Seq2[int, *T] {
	return func(yield func(int, *T) bool) {
		i := 0
		for _, blk := range b.list {
			for j := range blk {
				if !yield(i, &blk[j]) {
					return
				}
				i++
			}
		}
	}
}
