package certs

import (
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func mustCA(t *testing.T, name string) *KeyPair {
	t.Helper()
	ca, err := NewCA(name, IssueOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestIssueChain(t *testing.T) {
	ca := mustCA(t, "ca")
	sn := ServerName("web", "infra")
	srv, err := ca.IssueServer(sn, IssueOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := ca.IssueGatewayClient("infra", "web", IssueOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	if _, err := srv.Cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: sn, CurrentTime: t0}); err != nil {
		t.Errorf("server cert: %v", err)
	}
	if _, err := cli.Cert.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client cert: %v", err)
	}
	if len(cli.Cert.URIs) != 1 || cli.Cert.URIs[0].String() != "spiffe://caddygateway.io/ns/infra/gateway/web" || cli.Cert.Subject.CommonName != OperatorCommonName {
		t.Errorf("client identity = %v %q", cli.Cert.URIs, cli.Cert.Subject.CommonName)
	}
	if !ca.Cert.IsCA || ca.Cert.NotAfter.Sub(t0) != CADuration {
		t.Errorf("CA: IsCA=%v NotAfter=%v", ca.Cert.IsCA, ca.Cert.NotAfter)
	}
	if got := srv.Cert.NotAfter.Sub(t0); got != DefaultDuration {
		t.Errorf("server validity = %v", got)
	}
	if !srv.Cert.NotBefore.Before(t0) {
		t.Errorf("NotBefore %v not backdated", srv.Cert.NotBefore)
	}
	if _, err := tls.X509KeyPair(srv.CertPEM, srv.KeyPEM); err != nil {
		t.Errorf("server PEM unusable by crypto/tls: %v", err)
	}
	if srv.Cert.SerialNumber.Cmp(cli.Cert.SerialNumber) == 0 {
		t.Error("serial numbers repeat")
	}
	if _, err := NewCA("x", IssueOptions{}); err == nil {
		t.Error("NewCA without Now: want error")
	}
}

func TestParseKeyPair(t *testing.T) {
	ca := mustCA(t, "ca")
	other := mustCA(t, "other")
	if _, err := ParseKeyPair(ca.CertPEM, ca.KeyPEM); err != nil {
		t.Errorf("own pair: %v", err)
	}
	if _, err := ParseKeyPair(ca.CertPEM, other.KeyPEM); err == nil {
		t.Error("mismatched pair: want error")
	}
	if _, err := ParseKeyPair([]byte("junk"), ca.KeyPEM); err == nil {
		t.Error("junk cert: want error")
	}
}

func TestNeedsRenewal(t *testing.T) {
	ca := mustCA(t, "ca")
	other := mustCA(t, "other")
	leaf, err := ca.IssueServer("s", IssueOptions{Now: t0, Duration: 90 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	good := SecretData(leaf, ca)
	with := func(k string, v []byte) map[string][]byte {
		d := map[string][]byte{}
		for kk, vv := range good {
			d[kk] = vv
		}
		d[k] = v
		return d
	}
	tests := map[string]struct {
		data        map[string][]byte
		now         time.Time
		renewBefore time.Duration
		want        bool
	}{
		"fresh":                      {data: good, now: t0, renewBefore: DefaultRenewBefore, want: false},
		"just before renewal window": {data: good, now: t0.Add(60*24*time.Hour - time.Second), renewBefore: 30 * 24 * time.Hour},
		"in renewal window":          {data: good, now: t0.Add(60 * 24 * time.Hour), renewBefore: 30 * 24 * time.Hour, want: true},
		"expired":                    {data: good, now: t0.Add(100 * 24 * time.Hour), renewBefore: time.Hour, want: true},
		"renewBefore too long: 2/3":  {data: good, now: t0.Add(59 * 24 * time.Hour), renewBefore: 365 * 24 * time.Hour},
		"renewBefore too long: due":  {data: good, now: t0.Add(61 * 24 * time.Hour), renewBefore: 365 * 24 * time.Hour, want: true},
		"missing key":                {data: with(SecretKeyKey, nil), now: t0, want: true},
		"missing ca":                 {data: with(SecretCAKey, nil), now: t0, want: true},
		"key of another cert":        {data: with(SecretKeyKey, other.KeyPEM), now: t0, want: true},
		"other CA":                   {data: with(SecretCAKey, other.CertPEM), now: t0, want: true},
		"garbage cert":               {data: with(SecretCertKey, []byte("x")), now: t0, want: true},
		"CA secret itself":           {data: SecretData(ca, ca), now: t0, renewBefore: CARenewBefore},
		"empty":                      {data: nil, now: t0, want: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, reason := NeedsRenewal(tc.data, tc.now, tc.renewBefore)
			if got != tc.want {
				t.Fatalf("NeedsRenewal() = %v (%q), want %v", got, reason, tc.want)
			}
			if got == (reason == "") {
				t.Fatalf("reason %q does not match result %v", reason, got)
			}
		})
	}
}
