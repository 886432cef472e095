package backendtls

import (
	"strings"
	"testing"
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
		tr   Transport
		want string
	}{
		"no server name":  {Transport{SystemCAs: true}, "server_name is required"},
		"no trust":        {Transport{ServerName: "b"}, "trusted_cas or system_cas is required"},
		"both trusts":     {Transport{ServerName: "b", SystemCAs: true, TrustedCAs: []string{ca}}, "exclude each other"},
		"garbage CA":      {Transport{ServerName: "b", TrustedCAs: []string{ca}}, "trusted_cas[0] holds no PEM certificate"},
		"key alone":       {Transport{ServerName: "b", SystemCAs: true, ClientKey: "k"}, "client_certificate and client_key go together"},
		"garbage pair":    {Transport{ServerName: "b", SystemCAs: true, ClientCertificate: "c", ClientKey: "k"}, "client_certificate:"},
		"empty SAN":       {Transport{ServerName: "b", SystemCAs: true, SubjectAltNames: []SubjectAltName{{}}}, "subject_alt_names[0]"},
		"SAN of two kind": {Transport{ServerName: "b", SystemCAs: true, SubjectAltNames: []SubjectAltName{{Hostname: "a", URI: "u"}}}, "subject_alt_names[0]"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := tc.tr.clientConfig()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestClientConfigVerifiesWithSANsOnly(t *testing.T) {
	tr := Transport{ServerName: "b.example.com", SystemCAs: true}
	cfg, err := tr.clientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.InsecureSkipVerify || cfg.VerifyConnection != nil || cfg.ServerName != "b.example.com" {
		t.Errorf("without SANs Go must verify the server name: %+v", cfg)
	}
	tr.SubjectAltNames = []SubjectAltName{{URI: "spiffe://cluster/ns/b"}}
	if cfg, err = tr.clientConfig(); err != nil {
		t.Fatal(err)
	}
	if !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
		t.Errorf("with SANs the own verification must replace Go's: %+v", cfg)
	}
}
