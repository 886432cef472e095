package translator

import "strings"

// stringPrefix packs the first 8 bytes of s (zero-padded) into an integer that orders
// like s: when the prefixes of two strings differ, they compare as the strings do, and
// only equal prefixes need the strings compared (compareStrings). Sorting thousands of
// names that mostly differ early is then mostly comparing integers.
func stringPrefix(s string) uint64 {
	var p uint64
	for i := range 8 {
		p <<= 8
		if i < len(s) {
			p |= uint64(s[i])
		}
	}
	return p
}

// compareStrings compares a and b, whose stringPrefix are pa and pb.
func compareStrings(a, b string, pa, pb uint64) int {
	if pa != pb {
		if pa < pb {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}
