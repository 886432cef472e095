package acmestore

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dataKeySyntax is the API server's rule for Secret data keys.
var dataKeySyntax = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

func TestShardIsStableAndInRange(t *testing.T) {
	// The mapping is shared by pods of different releases: it must never change.
	fixed := map[string]int{
		"":                       2,
		"issue_cert_example.com": 3,
		"certificates/acme-v02.api.letsencrypt.org-directory/example.com/example.com.crt": 1,
	}
	for key, want := range fixed {
		if got := Shard(key); got != want || got < 0 || got >= Shards {
			t.Errorf("Shard(%q) = %d, want %d in [0,%d)", key, got, want, Shards)
		}
	}
	seen := map[int]bool{}
	for i := range 64 {
		seen[Shard("key-"+strings.Repeat("x", i))] = true
	}
	if len(seen) != Shards {
		t.Errorf("64 keys fell on %d of %d shards", len(seen), Shards)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	cases := map[string]Record{
		"certmagic key":            {Key: "certificates/acme/*.example.com/wildcard_.example.com.crt", Value: []byte("-----BEGIN")},
		"empty value":              {Key: "acme/ca/users/a@b.example/a.json"},
		"newline in key and value": {Key: "weird\nkey/with \"quotes\"", Value: []byte("a\nb\n")},
		"long key":                 {Key: strings.Repeat("very-long-label.", 40) + "/x.key", Value: []byte{0, 1, 2}},
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			r.Modified = time.Date(2026, 12, 6, 16, 0, 0, 123456789, time.UTC)
			checkRoundTrip(t, r)
		})
	}
}

func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("certificates/acme/example.com/example.com.crt", []byte("pem"), int64(1))
	f.Add("a\nb/*@c", []byte("\n\n"), int64(-5))
	f.Fuzz(func(t *testing.T, key string, value []byte, nanos int64) {
		if key == "" {
			return
		}
		checkRoundTrip(t, Record{Key: key, Value: value, Modified: time.Unix(0, nanos).UTC()})
	})
}

// checkRoundTrip decodes what r encodes to and checks that the data key is one the API
// server accepts and the storage recognises.
func checkRoundTrip(t *testing.T, r Record) {
	t.Helper()
	dk := DataKey(r.Key)
	if !dataKeySyntax.MatchString(dk) || len(dk) > 253 || !IsDataKey(dk) {
		t.Fatalf("DataKey(%q) = %q: not a valid storage data key", r.Key, dk)
	}
	got, err := DecodeRecord(r.Encode())
	if err != nil {
		t.Fatalf("DecodeRecord: %v", err)
	}
	if got.Key != r.Key || !got.Modified.Equal(r.Modified) || !bytes.Equal(got.Value, r.Value) {
		t.Fatalf("round trip of %+v gave %+v", r, got)
	}
}

func TestDecodeRecordRefusesGarbage(t *testing.T) {
	for name, b := range map[string][]byte{
		"no header": []byte("just bytes"),
		"bad json":  []byte("{not json\nvalue"),
		"no key":    []byte(`{"modified":"2026-01-01T00:00:00Z"}` + "\nvalue"),
	} {
		if _, err := DecodeRecord(b); err == nil {
			t.Errorf("%s: DecodeRecord(%q) succeeded", name, b)
		}
	}
}
