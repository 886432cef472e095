package gatewaysecrets

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
)

// countingIssuer issues self-signed certificates slowly and counts its orders.
type countingIssuer struct {
	orders atomic.Int32
	key    *ecdsa.PrivateKey
}

func (i *countingIssuer) IssuerKey() string { return "counting-issuer" }

func (i *countingIssuer) Issue(ctx context.Context, csr *x509.CertificateRequest) (*certmagic.IssuedCertificate, error) {
	i.orders.Add(1)
	select {
	case <-time.After(500 * time.Millisecond): // an order takes a while
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: csr.DNSNames[0]},
		DNSNames:     csr.DNSNames,
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(90 * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, csr.PublicKey, i.key)
	if err != nil {
		return nil, err
	}
	return &certmagic.IssuedCertificate{Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}, nil
}

// TestReplicasOrderOnce has two replicas, each with its own certmagic configuration on
// the shared storage, obtain the same name at once: one orders, the other waits for the
// lock and then finds the certificate in the storage.
func TestReplicasOrderOnce(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	issuer := &countingIssuer{key: key}
	var configs []*certmagic.Config
	for _, holder := range []string{"pod-a/1", "pod-b/1"} {
		var c *certmagic.Config
		cache := certmagic.NewCache(certmagic.CacheOptions{GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return c, nil }})
		t.Cleanup(cache.Stop)
		c = certmagic.New(cache, certmagic.Config{Storage: replica(t, cfg, holder, nil), Issuers: []certmagic.Issuer{issuer}})
		configs = append(configs, c)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(configs))
	for i, c := range configs {
		wg.Go(func() { errs[i] = c.ObtainCertSync(ctx, "a.example.com") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("replica %d: ObtainCertSync: %v", i, err)
		}
	}
	if n := issuer.orders.Load(); n != 1 {
		t.Fatalf("the issuer got %d orders, want 1", n)
	}
	for i, c := range configs {
		if _, err := c.CacheManagedCertificate(ctx, "a.example.com"); err != nil {
			t.Errorf("replica %d cannot load the shared certificate: %v", i, err)
		}
	}
}
