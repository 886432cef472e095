package emit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
)

// TestHashIsSHA256OfJSON checks the hash computed alongside the encoding against the
// SHA-256 of the finished bytes, for configs of one and of many flushed stretches.
func TestHashIsSHA256OfJSON(t *testing.T) {
	for _, n := range []int{1, 1000} {
		res, err := emit.Emit(translator.Translate(generateInput(n)).IR, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(res.JSON)
		if want := hex.EncodeToString(sum[:]); res.Hash != want {
			t.Errorf("%d routes (%d bytes): hash %s, SHA-256 of the JSON %s", n, len(res.JSON), res.Hash, want)
		}
	}
}
