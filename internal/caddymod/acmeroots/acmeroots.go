// Package acmeroots is the Caddy module tls.issuance.gateway_acme: Caddy's ACME issuer
// (tls.issuance.acme), which also takes the CA certificates trusted for the ACME
// directory's TLS inline, as PEM. Caddy's own issuer reads them from files only, and
// the operator pushes configs, not files: at provisioning the PEM is written once, by
// its hash, under Caddy's data directory and handed to the embedded issuer as that
// file. Everything else is Caddy's issuer, which Caddy's HTTP-01 handling finds
// through its GetACMEIssuer method. It must not change how certificates are obtained.
package acmeroots

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddytls"
)

func init() {
	caddy.RegisterModule(Issuer{})
}

// Issuer is caddytls.ACMEIssuer with TrustedRootsPEM.
type Issuer struct {
	caddytls.ACMEIssuer
	// TrustedRootsPEM are CA certificates (PEM) trusted for the directory's TLS, on top
	// of any TrustedRootsPEMFiles.
	TrustedRootsPEM string `json:"trusted_roots_pem,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (Issuer) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "tls.issuance.gateway_acme",
		New: func() caddy.Module { return new(Issuer) },
	}
}

// Provision writes TrustedRootsPEM to its file and provisions the embedded issuer.
func (iss *Issuer) Provision(ctx caddy.Context) error {
	if iss.TrustedRootsPEM != "" {
		file, err := writeRoots(caddy.AppDataDir(), iss.TrustedRootsPEM)
		if err != nil {
			return fmt.Errorf("trusted_roots_pem: %w", err)
		}
		iss.TrustedRootsPEMFiles = append(iss.TrustedRootsPEMFiles, file)
	}
	return iss.ACMEIssuer.Provision(ctx)
}

// writeRoots checks that pem holds certificates and writes it, unless it is there
// already, to dir/gateway_acme/<sha-256 of pem>.pem, which it returns. The file is
// renamed into place whole, so that a concurrent provisioning never reads half of it.
func writeRoots(dir, pem string) (string, error) {
	if !x509.NewCertPool().AppendCertsFromPEM([]byte(pem)) {
		return "", errors.New("no PEM certificate found")
	}
	sum := sha256.Sum256([]byte(pem))
	dir = filepath.Join(dir, "gateway_acme")
	file := filepath.Join(dir, hex.EncodeToString(sum[:])+".pem")
	if _, err := os.Stat(file); err == nil {
		return file, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".roots-*")
	if err != nil {
		return "", err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.WriteString(pem); err != nil {
		_ = tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	return file, os.Rename(tmp.Name(), file)
}

var (
	_ caddy.Provisioner = (*Issuer)(nil)
	_ caddy.Module      = (*Issuer)(nil)
)
