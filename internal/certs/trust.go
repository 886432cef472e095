package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"slices"
	"time"
)

// A CA rotation renews the server and the client certificate separately (cert-manager
// renews each Certificate on its own; a deleted CA Secret is reissued with a new key), and
// each issued Secret carries the ca.crt of its own moment. So that the channel works
// whichever side holds a certificate of the new CA first, both sides trust a bundle: the
// operator verifies the admin-proxy against it, and the admin-proxy verifies the operator
// against the copy of it in the Secret it mounts.
//
// The bundle holds every CA observed now (the CA Secret's certificate and the ca.crt of
// the server and client Secrets) and, of the CAs trusted before, the newest one no longer
// observed — the previous CA — until it expires or a later rotation replaces it. It is
// kept after both leaves are reissued because the pods see a changed Secret only when the
// kubelet refreshes the mount (a minute or more), and a pod still presenting a leaf of the
// previous CA must stay reachable. The previous CA's key is gone (rotationPolicy Always,
// or a deleted Secret), so trusting it issues nothing new.

// TrustBundle returns the bundle (PEM, newest CA first, deterministic) from the bundle
// trusted until now (previous, may be empty) and the CA PEMs observed now. Unparsable
// blocks are skipped.
func TrustBundle(previous []byte, observed [][]byte, now time.Time) []byte {
	var current []*x509.Certificate
	for _, p := range observed {
		current = appendNew(current, ParseCertificates(p)...)
	}
	sortNewestFirst(current)
	var older []*x509.Certificate
	for _, c := range ParseCertificates(previous) {
		if now.Before(c.NotAfter) && !contains(current, c) {
			older = appendNew(older, c)
		}
	}
	sortNewestFirst(older)
	if len(older) > 1 {
		older = older[:1]
	}
	all := append(current, older...)
	out := make([]byte, 0, 600*len(all))
	for _, c := range all {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// NewestCA returns, of the CA PEMs given (empty ones skipped), the one whose first
// certificate was issued last: the CA every leaf must chain to once the rotation is done.
func NewestCA(pems ...[]byte) []byte {
	var newest []byte
	var at time.Time
	for _, p := range pems {
		certs := ParseCertificates(p)
		if len(certs) == 0 {
			continue
		}
		if newest == nil || certs[0].NotBefore.After(at) {
			newest, at = p, certs[0].NotBefore
		}
	}
	return newest
}

// ChainsTo reports whether the leaf certificate (PEM) verifies against the CAs in caPEM
// at now, for any key usage.
func ChainsTo(leafPEM, caPEM []byte, now time.Time) bool {
	leaf, err := parseCert(leafPEM)
	if err != nil {
		return false
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return false
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	return err == nil
}

// ParseCertificates returns the certificates of a PEM bundle; other blocks and
// unparsable ones are skipped.
func ParseCertificates(p []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, p = pem.Decode(p)
		if block == nil {
			return out
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
}

func contains(list []*x509.Certificate, c *x509.Certificate) bool {
	return slices.ContainsFunc(list, func(x *x509.Certificate) bool { return bytes.Equal(x.Raw, c.Raw) })
}

func appendNew(list []*x509.Certificate, cs ...*x509.Certificate) []*x509.Certificate {
	for _, c := range cs {
		if !contains(list, c) {
			list = append(list, c)
		}
	}
	return list
}

func sortNewestFirst(list []*x509.Certificate) {
	slices.SortStableFunc(list, func(a, b *x509.Certificate) int {
		if c := b.NotBefore.Compare(a.NotBefore); c != 0 {
			return c
		}
		return bytes.Compare(a.Raw, b.Raw)
	})
}
