package acmetest

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/caddy-gateway/operator/internal/testports"
)

// TestDirectoryAndDown checks that the directory answers over TLS trusted through
// DirectoryRootPEM, and 503 while the CA is down.
func TestDirectoryAndDown(t *testing.T) {
	c := New(t, Options{HTTPPort: testports.Port(t), TLSPort: testports.Port(t)})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(c.DirectoryRootPEM)) {
		t.Fatal("DirectoryRootPEM holds no certificate")
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func() int {
		resp, err := client.Get(c.Directory)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(); got != http.StatusOK {
		t.Errorf("directory: %d, want 200", got)
	}
	c.SetDown(true)
	if got := get(); got != http.StatusServiceUnavailable {
		t.Errorf("directory while down: %d, want 503", got)
	}
	if c.Orders() != 0 || c.Challenges() != 0 {
		t.Errorf("orders %d, challenges %d without any", c.Orders(), c.Challenges())
	}
}

// TestDNSAnswersLoopback checks the resolver of the validation authority: 127.0.0.1
// for any name's A record, nothing for AAAA.
func TestDNSAnswersLoopback(t *testing.T) {
	addr := startDNS(t)
	client := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	for qtype, want := range map[uint16]int{dns.TypeA: 1, dns.TypeAAAA: 0} {
		m := new(dns.Msg)
		m.SetQuestion("any.name.example.", qtype)
		r, _, err := client.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Answer) != want {
			t.Fatalf("type %d: %d answers, want %d", qtype, len(r.Answer), want)
		}
		if want == 1 && r.Answer[0].(*dns.A).A.String() != "127.0.0.1" {
			t.Errorf("A answer %v, want 127.0.0.1", r.Answer[0])
		}
	}
}
