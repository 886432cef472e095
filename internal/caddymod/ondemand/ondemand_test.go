package ondemand

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddytls"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// TestCovers checks the Gateway API suffix semantics of listener hostnames.
func TestCovers(t *testing.T) {
	cases := map[string]struct {
		hostname, name string
		want           bool
	}{
		"one label":             {"*.example.com", "a.example.com", true},
		"several labels":        {"*.example.com", "a.b.example.com", true},
		"the suffix alone":      {"*.example.com", "example.com", false},
		"another domain":        {"*.example.com", "a.example.org", false},
		"suffix not at a label": {"*.example.com", "aexample.com", false},
		"any hostname":          {"", "a.example.org", true},
		"a wildcard name":       {"", "*.example.org", false},
		"no name":               {"", "", false},
	}
	for name, c := range cases {
		if got := covers(c.hostname, c.name); got != c.want {
			t.Errorf("%s: covers(%q, %q) = %v, want %v", name, c.hostname, c.name, got, c.want)
		}
	}
}

// TestRefusalIsPermissionDenied checks that a name without a route is refused with
// caddytls.ErrPermissionDenied (Caddy then obtains nothing and logs no error storm)
// and that the error names the name. Admission by the route tables is proven through
// a real Caddy and ACME CA in package emit (TestDataPlaneACMEOnDemand).
func TestRefusalIsPermissionDenied(t *testing.T) {
	p := &Permission{Listeners: []caddyjson.OnDemandListener{{Table: "443/*.example.com", Hostname: "*.example.com"}}}
	err := p.CertificateAllowed(context.Background(), "nobody.example.com")
	if !errors.Is(err, caddytls.ErrPermissionDenied) || !strings.Contains(err.Error(), "nobody.example.com") {
		t.Fatalf("error %v, want ErrPermissionDenied naming the name", err)
	}
}

// TestValidate checks the configurations refused, naming the field.
func TestValidate(t *testing.T) {
	cases := map[string]struct {
		l    caddyjson.OnDemandListener
		want string
	}{
		"no table":       {caddyjson.OnDemandListener{Hostname: "*.example.com"}, "listeners[0].table is empty"},
		"exact hostname": {caddyjson.OnDemandListener{Table: "t", Hostname: "a.example.com"}, `listeners[0].hostname "a.example.com"`},
	}
	for name, c := range cases {
		err := (&Permission{Listeners: []caddyjson.OnDemandListener{c.l}}).Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", name, err, c.want)
		}
	}
}
