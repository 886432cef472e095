package translator

import "slices"

// appendDoubling appends v to s, doubling the capacity when s is full. The lists of a
// large translation (route statuses, a listener's routes) reach tens of thousands of
// entries; append's gentler growth for large slices would copy them many more times.
func appendDoubling[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 4))
	}
	return append(s, v)
}
