package certstates

import (
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

func TestNext(t *testing.T) {
	now := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	later, earlier := now.Add(60*24*time.Hour), now.Add(-time.Hour)
	st := func(p acmestore.Phase, notAfter time.Time, msg string) *acmestore.CertificateState {
		return &acmestore.CertificateState{Name: "a.example.com", Phase: p, NotAfter: notAfter, Error: msg, Updated: earlier}
	}
	ev := func(name string, notAfter time.Time, msg string) Event {
		return Event{Name: name, Identifier: "a.example.com", NotAfter: notAfter, Error: msg}
	}
	cases := map[string]struct {
		prev  *acmestore.CertificateState
		event Event
		want  *acmestore.CertificateState // nil: nothing written
	}{
		"first order":                 {nil, ev("cert_obtaining", time.Time{}, ""), st(acmestore.Obtaining, time.Time{}, "")},
		"obtained":                    {st(acmestore.Obtaining, time.Time{}, ""), ev("cert_obtained", later, ""), st(acmestore.Valid, later, "")},
		"failed first order":          {st(acmestore.Obtaining, time.Time{}, ""), ev("cert_failed", time.Time{}, "rejectedIdentifier"), st(acmestore.Failing, time.Time{}, "rejectedIdentifier")},
		"renewal keeps valid":         {st(acmestore.Valid, later, ""), ev("cert_obtaining", time.Time{}, ""), nil},
		"renewal of an expired one":   {st(acmestore.Valid, earlier, ""), ev("cert_obtaining", time.Time{}, ""), st(acmestore.Obtaining, time.Time{}, "")},
		"retry keeps failing":         {st(acmestore.Failing, time.Time{}, "x"), ev("cert_obtaining", time.Time{}, ""), nil},
		"failed renewal keeps expiry": {st(acmestore.Valid, later, ""), ev("cert_failed", time.Time{}, "ca down"), st(acmestore.Failing, later, "ca down")},
		"failure after expiry":        {st(acmestore.Failing, earlier, "x"), ev("cert_failed", time.Time{}, "y"), st(acmestore.Failing, time.Time{}, "y")},
		"success clears the error":    {st(acmestore.Failing, later, "x"), ev("cert_obtained", later.Add(time.Hour), ""), st(acmestore.Valid, later.Add(time.Hour), "")},
		"revoked":                     {st(acmestore.Valid, later, ""), ev("cert_ocsp_revoked", time.Time{}, "revoked"), st(acmestore.Failing, later, "revoked")},
		"other event":                 {nil, ev("tls_get_certificate", time.Time{}, ""), nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, write := Next(tc.prev, tc.event, now)
			if tc.want == nil {
				if write {
					t.Fatalf("Next wrote %+v, want nothing written", got)
				}
				return
			}
			want := *tc.want
			want.Updated = now
			if !write || got.Name != want.Name || got.Phase != want.Phase || !got.NotAfter.Equal(want.NotAfter) || got.Error != want.Error || !got.Updated.Equal(now) {
				t.Fatalf("Next = %+v (write %v), want %+v", got, write, want)
			}
		})
	}
}
