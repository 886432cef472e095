package emit_test

import (
	"os"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
)

// Temporary (perf work): dumps the generated 10k-route config for byte comparison.
func TestPerfDump(t *testing.T) {
	p := os.Getenv("PERF_DUMP")
	if p == "" {
		t.Skip()
	}
	for _, n := range []int{100, 10000} {
		out := translator.Translate(generateInput(n))
		res, err := emit.Emit(out.IR, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p+"."+string(rune('0'+len(out.Routes)%7)), res.JSON, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("n=%d bytes=%d hash=%s", n, len(res.JSON), res.Hash)
	}
}
