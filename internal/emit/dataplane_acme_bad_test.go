package emit_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/ir"
)

// macKey is a random EAB MAC key, base64url as a CA hands it out.
func macKey(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestDataPlaneACMEExternalAccountBinding runs against a CA requiring External Account
// Binding: the key ID and MAC key it handed out get app its certificate; a wrong MAC
// key, an unknown key ID or no binding gets no certificate and no order, app's state is
// recorded Failing with the CA's message, and the other listeners keep serving; once
// the right key is pushed, the certificate is obtained.
func TestDataPlaneACMEExternalAccountBinding(t *testing.T) {
	const keyID = "kid-1"
	key := macKey(t)
	accounts := map[string]string{keyID: key}
	http01 := []string{ir.ACMEChallengeHTTP01}

	t.Run("bound", func(t *testing.T) {
		p := startACMEPlane(t, acmeSetup{challenges: http01, caAccounts: accounts,
			eab: &ir.ACMEExternalAccount{KeyID: keyID, MACKey: key}})
		leaf, took := p.waitCertificate("app.example.com", 60*time.Second)
		p.checkLeaf(leaf, "app.example.com")
		p.get("app.example.com")
		p.waitState("app.example.com", acmestore.Valid, leaf.NotAfter)
		t.Logf("certificate with EAB after %s", took.Round(time.Millisecond))
	})
	for _, c := range []struct {
		name string
		eab  *ir.ACMEExternalAccount
		want string // in the CA's message
	}{
		{"wrong MAC key", &ir.ACMEExternalAccount{KeyID: keyID, MACKey: macKey(t)}, "external account binding JWS verification error"},
		{"unknown key ID", &ir.ACMEExternalAccount{KeyID: "kid-2", MACKey: key}, "references a key that is not known"},
		{"no binding", nil, "requires newAccount requests must include a value for the 'externalAccountBinding' field"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := startACMEPlane(t, acmeSetup{challenges: http01, caAccounts: accounts, eab: c.eab})
			st := p.waitState("app.example.com", acmestore.Failing, time.Time{})
			t.Logf("recorded error: %s", st.Error)
			if !strings.Contains(st.Error, c.want) {
				t.Errorf("recorded error %q, want the CA's message %q", st.Error, c.want)
			}
			p.refusedAndOthersServe("app.example.com")
			if p.ca.Orders() != 0 {
				t.Errorf("%d orders without a bound account, want 0", p.ca.Orders())
			}
		})
	}
	// The Secret's MAC key corrected: the pushed config obtains the certificate at
	// once, not at the next retry of the failed order (a minute later).
	t.Run("corrected", func(t *testing.T) {
		p := startACMEPlane(t, acmeSetup{challenges: http01, caAccounts: accounts,
			eab: &ir.ACMEExternalAccount{KeyID: keyID, MACKey: macKey(t)}})
		p.waitState("app.example.com", acmestore.Failing, time.Time{})
		p.eab = &ir.ACMEExternalAccount{KeyID: keyID, MACKey: key}
		p.last = p.emit(http01, "a.tenants.example.com")
		loadResult(t, p.last, p.opts.AdminListen, false)
		leaf, took := p.waitCertificate("app.example.com", 20*time.Second)
		p.checkLeaf(leaf, "app.example.com")
		p.waitState("app.example.com", acmestore.Valid, leaf.NotAfter)
		t.Logf("certificate after the corrected key was pushed: %s", took.Round(time.Millisecond))
	})
}

// TestDataPlaneACMERefusedHostname runs against a CA whose policy forbids issuance for
// app's hostname and for one route hostname of tenants: each gets no certificate of
// the CA and its state is recorded Failing with the CA's message naming the hostname
// (the on-demand one no certificate at all: no other covers it), while another
// on-demand name of tenants is obtained on the same account and issuer and the other
// listeners keep serving.
//
// Caddy holds the handshake of the refused on-demand name and keeps retrying its order
// for up to 180s, past the end of the test: the test runs in a process of its own,
// which ends with it.
func TestDataPlaneACMERefusedHostname(t *testing.T) {
	if os.Getenv(acmeOwnProcessEnv) == "" {
		runInOwnProcess(t)
		return
	}
	both := []string{ir.ACMEChallengeHTTP01, ir.ACMEChallengeTLSALPN01}
	const refusedTenant = "b.tenants.example.com"
	p := startACMEPlane(t, acmeSetup{challenges: both, blocked: []string{"app.example.com", refusedTenant}})
	p.checkRefused("app.example.com")

	added := p.emit(both, "a.tenants.example.com", refusedTenant)
	postTables(t, strings.TrimPrefix(p.opts.AdminListen, "unix/"), tablesDelta(p.last, added))
	p.last = added
	// Caddy holds the handshake of an on-demand name while it retries the order (up to
	// 180s); the client gives up first.
	leaf, err := p.presented(refusedTenant, 3*time.Second)
	t.Logf("handshake for the refused on-demand name: %v", err)
	if err == nil {
		t.Errorf("%s presents a certificate (%v) although the CA refused it", refusedTenant, leaf.DNSNames)
	}
	p.checkRefused(refusedTenant)

	leaf, err = p.handshake("a.tenants.example.com", p.ca.Roots())
	if err != nil {
		t.Fatalf("on-demand handshake for a name the CA allows: %v", err)
	}
	p.checkLeaf(leaf, "a.tenants.example.com")
	p.get("a.tenants.example.com")
	p.waitState("a.tenants.example.com", acmestore.Valid, leaf.NotAfter)
	p.refusedAndOthersServe("app.example.com")
}

// checkRefused waits until name is recorded Failing with the CA's message refusing it
// by policy.
func (p *acmePlane) checkRefused(name string) {
	p.t.Helper()
	st := p.waitState(name, acmestore.Failing, time.Time{})
	p.t.Logf("recorded error of %s: %s", name, st.Error)
	for _, want := range []string{"forbidden by policy", `"` + name + `"`, "rejectedIdentifier"} {
		if !strings.Contains(st.Error, want) {
			p.t.Errorf("recorded error %q, want the CA's message with %s", st.Error, want)
		}
	}
}

// presented is the leaf the HTTPS port presents for serverName within timeout,
// whoever issued it.
func (p *acmePlane) presented(serverName string, timeout time.Duration) (*x509.Certificate, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout},
		Config: &tls.Config{ServerName: serverName, InsecureSkipVerify: true}}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := d.DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", p.tlsPort))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// refusedAndOthersServe checks that name presents no certificate of the CA, and that
// the listeners without automatic certificates serve.
func (p *acmePlane) refusedAndOthersServe(name string) {
	p.t.Helper()
	if _, err := p.handshake(name, p.ca.Roots()); err == nil {
		p.t.Errorf("%s presents a certificate of the CA although the CA refused it", name)
	}
	p.othersServe()
}

// acmeOwnProcessEnv is set in the process runInOwnProcess starts.
const acmeOwnProcessEnv = "EMIT_TEST_ACME_OWN_PROCESS"

// runInOwnProcess runs test t in a new process of this test binary and fails t with
// that process's output unless it passes.
func runInOwnProcess(t *testing.T) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), acmeOwnProcessEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s in its own process: %v\n%s", t.Name(), err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, ".go:") {
			t.Log(strings.TrimSpace(line))
		}
	}
}
