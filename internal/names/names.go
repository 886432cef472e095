// Package names derives stable Kubernetes object names and label values from a Gateway's
// name. It is pure and performs no I/O.
package names

import (
	"crypto/sha256"
	"encoding/hex"
)

// Length limits of Kubernetes names and label values.
const (
	// MaxLabel is the limit of a DNS-1123/1035 label (Service names, label values).
	MaxLabel = 63
	// MaxSubdomain is the limit of a DNS-1123 subdomain (most object names).
	MaxSubdomain = 253
)

// Child returns base+suffix when it fits in max characters. Otherwise base is shortened
// and followed by "-" and 8 hex digits of a hash of the whole base, so distinct bases keep
// distinct names. A trailing '-' or '.' left by shortening is dropped.
func Child(base, suffix string, max int) string {
	if len(base)+len(suffix) <= max {
		return base + suffix
	}
	sum := sha256.Sum256([]byte(base))
	h := "-" + hex.EncodeToString(sum[:4])
	keep := max - len(suffix) - len(h)
	if keep < 0 {
		keep = 0
	}
	short := base[:keep]
	for len(short) > 0 && (short[len(short)-1] == '-' || short[len(short)-1] == '.') {
		short = short[:len(short)-1]
	}
	return short + h + suffix
}
