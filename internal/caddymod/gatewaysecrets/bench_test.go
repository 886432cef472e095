package gatewaysecrets

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// BenchmarkStorage times each operation against the test API server, with 40 stored
// certificates' worth of keys (three keys of about 2 KiB each per certificate).
func BenchmarkStorage(b *testing.B) {
	cfg := fixture(b)
	s := replica(b, cfg, "pod-a/1", nil)
	ctx := ctxT(b, 10*time.Minute)
	value := bytes.Repeat([]byte("x"), 2<<10)
	for i := range 40 {
		for _, ext := range []string{"crt", "key", "json"} {
			if err := s.Store(ctx, fmt.Sprintf("certificates/acme/h%d.example.com/h%d.example.com.%s", i, i, ext), value); err != nil {
				b.Fatal(err)
			}
		}
	}
	key := "certificates/acme/h1.example.com/h1.example.com.crt"
	ops := map[string]func() error{
		"Store":         func() error { return s.Store(ctx, key, value) },
		"Load":          func() error { _, err := s.Load(ctx, key); return err },
		"Stat":          func() error { _, err := s.Stat(ctx, key); return err },
		"ExistsMissing": func() error { s.Exists(ctx, "certificates/acme/none.example.com/none.crt"); return nil },
		"ListRecursive": func() error { _, err := s.List(ctx, "certificates", true); return err },
		"LockUnlock": func() error {
			if err := s.Lock(ctx, "issue_cert_h1.example.com"); err != nil {
				return err
			}
			return s.Unlock(ctx, "issue_cert_h1.example.com")
		},
	}
	for _, name := range []string{"Store", "Load", "Stat", "ExistsMissing", "ListRecursive", "LockUnlock"} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := ops[name](); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
