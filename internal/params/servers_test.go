package params_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/params"
)

func dur(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func TestServerOptions(t *testing.T) {
	tests := map[string]struct {
		caddy *v1alpha1.CaddyRuntimeSpec
		want  emit.ServerOptions
	}{
		"nil":   {},
		"empty": {caddy: &v1alpha1.CaddyRuntimeSpec{}},
		"every server field": {
			caddy: &v1alpha1.CaddyRuntimeSpec{
				Protocols:             []v1alpha1.HTTPProtocol{"h1", "h2c"},
				Timeouts:              &v1alpha1.ServerTimeouts{ReadHeader: dur(time.Second), Read: dur(0), Write: dur(time.Minute), Idle: dur(2 * time.Minute)},
				UDPSessionIdleTimeout: dur(45 * time.Second),
				TrustedProxies:        []string{"10.0.0.0/8"},
				ProxyProtocol:         &v1alpha1.ProxyProtocolSpec{Allow: []string{"192.168.0.0/16"}, Timeout: dur(3 * time.Second)},
				TLS:                   &v1alpha1.TLSSettings{MinVersion: ptr.To("1.3")},
				// Not server settings: left to other options.
				GracePeriod: dur(time.Second), LogLevel: ptr.To(v1alpha1.LogLevel("WARN")),
			},
			want: emit.ServerOptions{
				Protocols:         []string{"h1", "h2c"},
				ReadHeaderTimeout: ptr.To(time.Second), ReadTimeout: ptr.To(time.Duration(0)),
				WriteTimeout: ptr.To(time.Minute), IdleTimeout: ptr.To(2 * time.Minute),
				UDPIdleTimeout: ptr.To(45 * time.Second),
				TrustedProxies: []string{"10.0.0.0/8"},
				ProxyProtocol:  &emit.ProxyProtocol{Allow: []string{"192.168.0.0/16"}, Timeout: ptr.To(3 * time.Second)},
				TLSMinVersion:  "1.3",
			},
		},
		"partial timeouts, PROXY protocol without timeout, cipher suites": {
			caddy: &v1alpha1.CaddyRuntimeSpec{
				Timeouts:      &v1alpha1.ServerTimeouts{Idle: dur(time.Minute)},
				ProxyProtocol: &v1alpha1.ProxyProtocolSpec{Allow: []string{"0.0.0.0/0"}},
				TLS:           &v1alpha1.TLSSettings{CipherSuites: []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"}},
			},
			want: emit.ServerOptions{
				IdleTimeout:   ptr.To(time.Minute),
				ProxyProtocol: &emit.ProxyProtocol{Allow: []string{"0.0.0.0/0"}},
				CipherSuites:  []string{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := params.ServerOptions(tc.caddy); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ServerOptions:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestValidateTLS(t *testing.T) {
	tls := func(min string, suites ...string) v1alpha1.CaddyProxyConfigSpec {
		s := &v1alpha1.TLSSettings{CipherSuites: suites}
		if min != "" {
			s.MinVersion = &min
		}
		return v1alpha1.CaddyProxyConfigSpec{Caddy: &v1alpha1.CaddyRuntimeSpec{TLS: s}}
	}
	tests := map[string]struct {
		spec v1alpha1.CaddyProxyConfigSpec
		// want is a substring of the error; empty means valid.
		want string
	}{
		"no TLS settings":           {spec: v1alpha1.CaddyProxyConfigSpec{Caddy: &v1alpha1.CaddyRuntimeSpec{}}},
		"suites under 1.2":          {spec: tls("1.2", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256")},
		"minimum 1.3 alone":         {spec: tls("1.3")},
		"unknown suite":             {spec: tls("", "TLS_RSA_WITH_RC4_128_SHA"), want: `spec.caddy.tls.cipherSuites[0]: Unsupported value: "TLS_RSA_WITH_RC4_128_SHA": supported values: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"`},
		"TLS 1.3 suite":             {spec: tls("", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"), want: `spec.caddy.tls.cipherSuites[1]: Unsupported value: "TLS_AES_128_GCM_SHA256"`},
		"suites under 1.3 (merged)": {spec: tls("1.3", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"), want: `spec.caddy.tls.cipherSuites: Forbidden: must be empty when spec.caddy.tls.minVersion is "1.3"`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := params.Validate(&tc.spec)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestCipherSuiteEnumMatchesCrypto checks that the CRD's list of cipher suite names is
// the one crypto/tls (which Caddy consults) supports for TLS 1.2.
func TestCipherSuiteEnumMatchesCrypto(t *testing.T) {
	b, err := os.ReadFile("../../api/v1alpha1/caddy_types.go")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "+kubebuilder:validation:items:Enum="
	_, rest, ok := strings.Cut(string(b), marker)
	if !ok {
		t.Fatalf("no %s marker in caddy_types.go", marker)
	}
	line, _, _ := strings.Cut(rest, "\n")
	if got, want := strings.Split(line, ";"), params.TLS12CipherSuites(); !reflect.DeepEqual(got, want) {
		t.Errorf("cipherSuites enum %v, crypto/tls TLS 1.2 suites %v", got, want)
	}
}
