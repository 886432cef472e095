package certs

import (
	"bytes"
	"testing"
	"time"
)

// TestTrustBundle walks a CA rotation: the bundle keeps the previous CA next to the new
// one, drops it once it expires or a later rotation replaces it, and never drops a CA a
// Secret still carries.
func TestTrustBundle(t *testing.T) {
	ca1 := mustCA(t, "ca1")
	ca2, err := NewCA("ca2", IssueOptions{Now: t0.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	ca3, err := NewCA("ca3", IssueOptions{Now: t0.Add(2 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	short, err := NewCA("short", IssueOptions{Now: t0, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cat := func(kps ...*KeyPair) []byte {
		var b []byte
		for _, kp := range kps {
			b = append(b, kp.CertPEM...)
		}
		return b
	}
	now := t0.Add(3 * time.Hour)
	tests := map[string]struct {
		previous []byte
		observed [][]byte
		want     []byte
	}{
		"first issue":                 {nil, [][]byte{ca1.CertPEM, ca1.CertPEM}, cat(ca1)},
		"unchanged":                   {cat(ca1), [][]byte{ca1.CertPEM}, cat(ca1)},
		"new CA keeps the previous":   {cat(ca1), [][]byte{ca2.CertPEM}, cat(ca2, ca1)},
		"leaves on both CAs":          {cat(ca1), [][]byte{ca2.CertPEM, ca1.CertPEM}, cat(ca2, ca1)},
		"settled keeps the previous":  {cat(ca2, ca1), [][]byte{ca2.CertPEM}, cat(ca2, ca1)},
		"next rotation replaces it":   {cat(ca2, ca1), [][]byte{ca3.CertPEM}, cat(ca3, ca2)},
		"expired previous is dropped": {cat(ca2, short), [][]byte{ca2.CertPEM}, cat(ca2)},
		"CA Secret gone keeps trust":  {cat(ca2, ca1), [][]byte{nil, ca2.CertPEM}, cat(ca2, ca1)},
		"garbage is skipped":          {[]byte("junk"), [][]byte{[]byte("junk"), ca1.CertPEM}, cat(ca1)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := TrustBundle(tc.previous, tc.observed, now); !bytes.Equal(got, tc.want) {
				t.Errorf("bundle holds %v, want %v", subjects(got), subjects(tc.want))
			}
		})
	}
	if got := NewestCA(nil, ca1.CertPEM, ca3.CertPEM, ca2.CertPEM); !bytes.Equal(got, ca3.CertPEM) {
		t.Errorf("NewestCA = %v, want ca3", subjects(got))
	}
	leaf, err := ca1.IssueServer("x", IssueOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if !ChainsTo(leaf.CertPEM, cat(ca2, ca1), now) || ChainsTo(leaf.CertPEM, ca2.CertPEM, now) {
		t.Error("ChainsTo: a leaf of ca1 must chain to a bundle holding ca1 and not to ca2 alone")
	}
}

func subjects(p []byte) []string {
	var out []string
	for _, c := range ParseCertificates(p) {
		out = append(out, c.Subject.CommonName)
	}
	return out
}
