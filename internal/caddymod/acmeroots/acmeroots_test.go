package acmeroots

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestWriteRoots checks that the PEM is written once, by its hash, whole, and that a
// PEM without certificates is refused.
func TestWriteRoots(t *testing.T) {
	dir := t.TempDir()
	a, err := writeRoots(dir, fixture.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	b, err := writeRoots(dir, fixture.CertPEM)
	if err != nil || a != b {
		t.Fatalf("second write: %q, %v; want %q", b, err, a)
	}
	got, err := os.ReadFile(a)
	if err != nil || string(got) != fixture.CertPEM {
		t.Fatalf("file holds %q, %v", got, err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(a)); len(entries) != 1 {
		t.Errorf("%d files written, want 1", len(entries))
	}
	if _, err := writeRoots(dir, "not a certificate"); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("error %v, want one saying no PEM certificate was found", err)
	}
}
