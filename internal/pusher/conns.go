package pusher

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"slices"
	"time"
)

// idleConnTimeout is how long a Gateway's admin connections stay open between pushes.
const idleConnTimeout = 90 * time.Second

// conns holds, per Gateway, the HTTP client of its admin channel, so that pushes reuse
// their TLS connections to the pods instead of a handshake each. A client is replaced
// when the Gateway's client TLS configuration changes (a renewed certificate, a new CA):
// connections made with old credentials are not used again.
type conns struct {
	byGateway map[string]*gatewayClient
}

type gatewayClient struct {
	tls    *tls.Config
	client *http.Client
}

// client returns the Gateway's client for cfg; the Pusher's lock is held.
func (c *conns) client(gateway string, cfg *tls.Config, dialTimeout time.Duration) *http.Client {
	if gc := c.byGateway[gateway]; gc != nil {
		if sameTLS(gc.tls, cfg) {
			return gc.client
		}
		gc.client.CloseIdleConnections()
	}
	if c.byGateway == nil {
		c.byGateway = map[string]*gatewayClient{}
	}
	gc := &gatewayClient{tls: cfg, client: &http.Client{Transport: &http.Transport{
		TLSClientConfig: cfg, ForceAttemptHTTP2: false,
		MaxIdleConnsPerHost: 2, IdleConnTimeout: idleConnTimeout,
		DialContext: (&net.Dialer{Timeout: dialTimeout}).DialContext,
	}}}
	c.byGateway[gateway] = gc
	return gc.client
}

// forget closes the Gateway's idle connections; the Pusher's lock is held.
func (c *conns) forget(gateway string) {
	if gc := c.byGateway[gateway]; gc != nil {
		gc.client.CloseIdleConnections()
		delete(c.byGateway, gateway)
	}
}

// sameTLS reports whether a and b present the same certificates to the same server
// name and trust the same roots.
func sameTLS(a, b *tls.Config) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.ServerName != b.ServerName || a.MinVersion != b.MinVersion ||
		!a.RootCAs.Equal(b.RootCAs) || len(a.Certificates) != len(b.Certificates) {
		return false
	}
	for i := range a.Certificates {
		if !slices.EqualFunc(a.Certificates[i].Certificate, b.Certificates[i].Certificate, bytes.Equal) {
			return false
		}
	}
	return true
}
