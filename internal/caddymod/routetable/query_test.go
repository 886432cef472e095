package routetable

import (
	"testing"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// TestHasExactHost checks the query of the on-demand permission: only a host table set
// for exactly that host in that table counts, as the admin API leaves the tables.
func TestHasExactHost(t *testing.T) {
	g := startCaddy(t, "443/*.example.com")
	g.mustPost(t, caddyjson.TablesDelta{Set: []caddyjson.HostTable{
		table("443/*.example.com", "a.example.com", route("/", static("a"))),
		table("443/*.example.com", "*.b.example.com", route("/", static("b"))),
		table("443/*.example.com", "", route("/", static("any"))),
	}})
	cases := map[string]struct {
		table, host string
		want        bool
	}{
		"exact host":                 {"443/*.example.com", "a.example.com", true},
		"case ignored":               {"443/*.example.com", "A.Example.com", true},
		"other table":                {"8443/*.example.com", "a.example.com", false},
		"under a wildcard host only": {"443/*.example.com", "x.b.example.com", false},
		"the wildcard itself":        {"443/*.example.com", "*.b.example.com", false},
		"catch-all only":             {"443/*.example.com", "c.example.com", false},
		"empty":                      {"443/*.example.com", "", false},
	}
	for name, c := range cases {
		if got := HasExactHost(c.table, c.host); got != c.want {
			t.Errorf("%s: HasExactHost(%q, %q) = %v, want %v", name, c.table, c.host, got, c.want)
		}
	}
	g.mustPost(t, caddyjson.TablesDelta{Delete: []caddyjson.HostKey{{Table: "443/*.example.com", Host: "a.example.com"}}})
	if HasExactHost("443/*.example.com", "a.example.com") {
		t.Error("a deleted host table still counts")
	}
}
