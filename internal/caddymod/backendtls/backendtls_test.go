package backendtls

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"
)

func TestDNSMatch(t *testing.T) {
	tests := map[string]struct {
		want, have string
		match      bool
	}{
		"equal":                            {"a.example.com", "a.example.com", true},
		"case and trailing dot":            {"A.Example.com.", "a.example.COM", true},
		"different":                        {"a.example.com", "b.example.com", false},
		"wanted wildcard, one label":       {"*.example.com", "a.example.com", true},
		"wanted wildcard, two labels":      {"*.example.com", "a.b.example.com", false},
		"wanted wildcard, the bare suffix": {"*.example.com", "example.com", false},
		"certificate wildcard":             {"a.example.com", "*.example.com", true},
		"certificate wildcard, two labels": {"a.b.example.com", "*.example.com", false},
		"both wildcards, equal":            {"*.example.com", "*.example.com", true},
		"suffix only":                      {"example.com", "badexample.com", false},
		"empty":                            {"", "", false},
		"bare star":                        {"*", "a", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := dnsMatch(tc.want, tc.have); got != tc.match {
				t.Errorf("dnsMatch(%q, %q) = %v, want %v", tc.want, tc.have, got, tc.match)
			}
		})
	}
}

func TestClientConfigRefusesBadFields(t *testing.T) {
	const ca = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n"
	tests := map[string]struct {
		tr   Settings
		want string
	}{
		"no server name":  {Settings{SystemCAs: true}, "server_name is required"},
		"no trust":        {Settings{ServerName: "b"}, "trusted_cas or system_cas is required"},
		"both trusts":     {Settings{ServerName: "b", SystemCAs: true, TrustedCAs: []string{ca}}, "exclude each other"},
		"garbage CA":      {Settings{ServerName: "b", TrustedCAs: []string{ca}}, "trusted_cas[0] holds no PEM certificate"},
		"key alone":       {Settings{ServerName: "b", SystemCAs: true, ClientKey: "k"}, "client_certificate and client_key go together"},
		"garbage pair":    {Settings{ServerName: "b", SystemCAs: true, ClientCertificate: "c", ClientKey: "k"}, "client_certificate:"},
		"empty SAN":       {Settings{ServerName: "b", SystemCAs: true, SubjectAltNames: []SubjectAltName{{}}}, "subject_alt_names[0]"},
		"SAN of two kind": {Settings{ServerName: "b", SystemCAs: true, SubjectAltNames: []SubjectAltName{{Hostname: "a", URI: "u"}}}, "subject_alt_names[0]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tc.tr.ClientConfig()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestClientConfigVerifiesWithSANsOnly(t *testing.T) {
	tr := Settings{ServerName: "b.example.com", SystemCAs: true}
	cfg, err := tr.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureSkipVerify || cfg.VerifyConnection != nil || cfg.ServerName != "b.example.com" {
		t.Errorf("without SANs Go must verify the server name: %+v", cfg)
	}
	tr.SubjectAltNames = []SubjectAltName{{URI: "spiffe://cluster/ns/b"}}
	if cfg, err = tr.ClientConfig(); err != nil {
		t.Fatal(err)
	}
	if !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
		t.Errorf("with SANs the own verification must replace Go's: %+v", cfg)
	}
}

func TestProvisionSetsTheTLSClientConfig(t *testing.T) {
	caPEM, _ := testCA(t)
	// ALPN (h2 offered to gRPC backends, only HTTP/1.1 to WebSocket upgrades) is proven
	// by the data-plane tests of package emit.
	for name, versions := range map[string][]string{"default": nil, "h2": {"2"}, "h1": {"1.1"}} {
		t.Run(name, func(t *testing.T) {
			tr := &Transport{Settings: Settings{ServerName: "b.example.com", TrustedCAs: []string{caPEM}}}
			tr.Versions = versions
			ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
			defer cancel()
			if err := tr.Provision(ctx); err != nil {
				t.Fatal(err)
			}
			c := tr.Transport.TLSClientConfig
			if !tr.TLSEnabled() || c == nil || c.ServerName != "b.example.com" || c.RootCAs == nil || c.InsecureSkipVerify {
				t.Fatalf("TLS enabled %v, client config %+v", tr.TLSEnabled(), c)
			}
			if tr.Transport.TLSHandshakeTimeout != HandshakeTimeout {
				t.Errorf("handshake timeout %s, want %s", tr.Transport.TLSHandshakeTimeout, HandshakeTimeout)
			}
			if tr.RequestHeaderOps() != nil {
				t.Error("the transport must keep the client's Host header")
			}
		})
	}
	tr := &Transport{Settings: Settings{ServerName: "b", SystemCAs: true}}
	tr.TLS = &reverseproxy.TLSConfig{InsecureSkipVerify: true}
	if err := tr.Provision(caddy.Context{Context: context.Background()}); err == nil || !strings.Contains(err.Error(), "tls must not be set") {
		t.Errorf("a tls block was accepted: %v", err)
	}
}

// testCA is a self-signed CA certificate in PEM and its key.
func testCA(t *testing.T) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key
}
