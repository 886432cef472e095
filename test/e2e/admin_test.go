//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/test/utils"
)

// adminClient is what the operator holds for one Gateway: the client certificate Secret,
// the trust bundle and the ServerName of the admin-proxy.
type adminClient struct {
	tls *tls.Config
}

// newAdminClient reads a Gateway's client and trust Secrets, in the operator's namespace;
// without withCert it presents no client certificate.
func newAdminClient(ctx context.Context, c client.Client, ns, gateway string, withCert bool) (*adminClient, error) {
	n := certs.NamesFor(ns, gateway)
	var s, trust corev1.Secret
	if err := c.Get(ctx, client.ObjectKey{Namespace: utils.OperatorNamespace, Name: n.Client}, &s); err != nil {
		return nil, err
	}
	if err := c.Get(ctx, client.ObjectKey{Namespace: utils.OperatorNamespace, Name: n.Trust}, &trust); err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(trust.Data[certs.SecretCAKey]) {
		return nil, fmt.Errorf("secret %s has no CA", trust.Name)
	}
	cfg := &tls.Config{RootCAs: roots, ServerName: certs.ServerName(gateway, ns), MinVersion: tls.VersionTLS13}
	if withCert {
		pair, err := tls.X509KeyPair(s.Data[certs.SecretCertKey], s.Data[certs.SecretKeyKey])
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return &adminClient{tls: cfg}, nil
}

// withCertOf returns a client that presents other's client certificate.
func (a *adminClient) withCertOf(other *adminClient) *adminClient {
	cfg := a.tls.Clone()
	cert := other.tls.Certificates[0]
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	return &adminClient{tls: cfg}
}

// withForeignCert swaps the client certificate for one of another CA.
func (a *adminClient) withForeignCert() (*adminClient, error) {
	ca, err := certs.NewCA("someone-else", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		return nil, err
	}
	kp, err := ca.IssueClient(certs.IssueOptions{Now: time.Now()})
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(kp.CertPEM, kp.KeyPEM)
	if err != nil {
		return nil, err
	}
	cfg := a.tls.Clone()
	cfg.Certificates = nil
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	return &adminClient{tls: cfg}, nil
}

// do sends one admin request to a pod's admin-proxy and returns status and body.
func (a *adminClient) do(ctx context.Context, podIP string, port int32, method, path string, body []byte) (int, string, error) {
	tr := &http.Transport{TLSClientConfig: a.tls, DisableKeepAlives: true}
	hc := &http.Client{Transport: tr, Timeout: 15 * time.Second}
	url := "https://" + net.JoinHostPort(podIP, strconv.Itoa(int(port))) + path
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, string(b), nil
}
