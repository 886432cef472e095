package translator

import (
	"slices"
	"testing"
)

// TestSlab checks that slices cut from one block do not share elements: appending past
// a slice's capacity must leave its neighbour untouched.
func TestSlab(t *testing.T) {
	var s slab[int]
	a := append(s.take(2), 1, 2)
	b := append(s.take(3), 3, 4, 5)
	a = append(a, 99)
	n := 2 * slabBytes / 8 // more than a block holds
	big := s.take(n)
	if !slices.Equal(b, []int{3, 4, 5}) || !slices.Equal(a, []int{1, 2, 99}) || cap(big) != n || len(big) != 0 {
		t.Fatalf("a=%v b=%v cap(big)=%d", a, b, cap(big))
	}
}

// TestBlocks checks that a block list keeps its elements in order and in place across
// blocks.
func TestBlocks(t *testing.T) {
	var b blocks[int]
	n := 3 * slabBytes / 8 // more than the first blocks hold
	var first *int
	for i := range n {
		b.add(i)
		if i == 0 {
			first = b.at(0)
		}
	}
	if b.len() != n || b.at(0) != first || *b.at(n - 1) != n-1 || len(b.list) < 3 {
		t.Fatalf("len %d, at(0) moved %v, at(n-1) %d, %d blocks", b.len(), b.at(0) != first, *b.at(n - 1), len(b.list))
	}
	for i, v := range b.all() {
		if *v != i || b.at(i) != v {
			t.Fatalf("element %d is %d", i, *v)
		}
	}
}
