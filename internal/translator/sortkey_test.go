package translator

import (
	"strings"
	"testing"
)

// TestCompareStrings checks that comparing by stringPrefix first orders strings as
// strings.Compare does, around the prefix's length and padding.
func TestCompareStrings(t *testing.T) {
	words := []string{"", "a", "a\x00", "a\x00b", "a\x01", "ab", "abcdefg", "abcdefgh", "abcdefgh\x00", "abcdefgha",
		"abcdefghb", "abcdefgi", "b", "\xff", "r10.probe.example.com", "r9.probe.example.com", "route-10", "route-9"}
	for _, a := range words {
		for _, b := range words {
			if got, want := compareStrings(a, b, stringPrefix(a), stringPrefix(b)), strings.Compare(a, b); got != want {
				t.Errorf("compareStrings(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}
