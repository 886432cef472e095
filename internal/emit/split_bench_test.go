package emit_test

import (
	"fmt"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
)

func BenchmarkSplit(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		in := generateInput(n)
		b.Run(fmt.Sprintf("translate/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				translator.Translate(in)
			}
		})
		out := translator.Translate(in)
		b.Run(fmt.Sprintf("emit/routes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := emit.Emit(out.IR, emit.Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
