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
