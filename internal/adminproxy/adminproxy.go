// Package adminproxy is the admin-proxy sidecar of every Caddy pod (`manager admin-proxy`).
// It terminates mTLS on the admin port with the server certificate of a mounted Secret,
// accepts only client certificates that chain to a CA of the Secret's ca.crt (a trust
// bundle: during a CA rotation the current and the previous CA) and carry the operator's
// identity for this pod's Gateway (--identity, certs.OperatorIdentity), lets through only the admin calls the operator makes, and
// forwards them to Caddy's admin unix socket. It reloads the certificate files when they
// change, so rotation needs no restart.
//
// It must not parse or alter Caddy configurations, and it must never open Caddy's admin
// API to anything but the verified operator.
package adminproxy

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"path"
	"strings"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/certs"
)

// Defaults of the sidecar, shared with the pod template the operator renders.
const (
	// DefaultListen is the address of the mTLS admin endpoint (controlPlane.adminPort).
	DefaultListen = ":2021"
	// DefaultTLSDir is where the server certificate Secret (tls.crt, tls.key, ca.crt) is
	// mounted.
	DefaultTLSDir = "/etc/caddy-gateway/tls"
	// DefaultSocket is Caddy's admin unix socket, in an emptyDir shared by both containers.
	DefaultSocket = "/run/caddy/admin.sock"
	// DefaultReloadInterval is how often the TLS files are checked for changes.
	DefaultReloadInterval = 5 * time.Second
	// MaxBodyBytes bounds a request body (a whole Caddy config on POST /load).
	MaxBodyBytes = 32 << 20
)

// Options configure a Server.
type Options struct {
	// TLSDir holds tls.crt, tls.key and ca.crt. Required.
	TLSDir string
	// Socket is Caddy's admin unix socket. Required.
	Socket string
	// Identity is the URI SAN a client certificate must carry: the pods of a Gateway are
	// given certs.OperatorIdentity of it. Default: certs.OperatorURI.
	Identity string
	// ReloadInterval between checks of the TLS files. Default: DefaultReloadInterval.
	ReloadInterval time.Duration
	// UpstreamTimeout bounds waiting for Caddy's response headers; POST /load blocks until
	// the reload is done, which includes the grace period of the old servers. Default: 2m.
	UpstreamTimeout time.Duration
	// Logger receives one line per refused or failed request and per reload. Default:
	// slog.Default().
	Logger *slog.Logger
}

// Server is the admin-proxy.
type Server struct {
	opts  Options
	store *tlsStore
	http  *http.Server
}

// New reads the TLS material (failing when it is missing or inconsistent) and builds the
// server. Call Serve to accept connections.
func New(o Options) (*Server, error) {
	if o.TLSDir == "" || o.Socket == "" {
		return nil, errors.New("adminproxy: TLSDir and Socket are required")
	}
	if o.Identity == "" {
		o.Identity = certs.OperatorURI
	}
	if o.ReloadInterval <= 0 {
		o.ReloadInterval = DefaultReloadInterval
	}
	if o.UpstreamTimeout <= 0 {
		o.UpstreamTimeout = 2 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	store, err := newTLSStore(o.TLSDir, o.Identity)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, store: store}
	s.http = &http.Server{
		Handler:           s.handler(),
		TLSConfig:         store.serverConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      o.UpstreamTimeout + 30*time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(probeFilter{slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)}, "", 0),
	}
	return s, nil
}

// Serve accepts mTLS connections on ln until ctx ends, reloading the TLS files every
// ReloadInterval. It returns nil after a graceful shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.watch(ctx)
	errc := make(chan error, 1)
	go func() { errc <- s.http.ServeTLS(ln, "", "") }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin-proxy: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if err := s.http.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("admin-proxy shutdown: %w", err)
	}
	return nil
}

// ListenAndServe listens on addr (TCP) and serves until ctx ends.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	s.opts.Logger.Info("Serving the Caddy admin API over mTLS", "listen", ln.Addr().String(), "socket", s.opts.Socket)
	return s.Serve(ctx, ln)
}

func (s *Server) watch(ctx context.Context) {
	t := time.NewTicker(s.opts.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		changed, err := s.store.reload()
		switch {
		case err != nil:
			s.opts.Logger.Warn("Keeping the previous TLS material", "dir", s.opts.TLSDir, "error", err.Error())
		case changed:
			s.opts.Logger.Info("Reloaded TLS material", "dir", s.opts.TLSDir)
		}
	}
}

// Allowed reports whether the admin call is one the operator makes: POST /load, GET of
// the config tree, GET /id/<id> of one object by its "@id" (nothing below it: the
// operator asks whether a config runs by the id it carries), GET /reverse_proxy/upstreams,
// and POST and GET of the route tables (caddyjson.TablesPath, nothing below it). Paths
// must be clean (no dot segments, no escaped characters) so that Caddy sees the same path
// that was checked.
func Allowed(method, p, rawPath string) bool {
	if rawPath != "" || strings.Contains(p, "//") || strings.Contains(p, "\\") {
		return false
	}
	if cleaned := path.Clean(p); cleaned != p && cleaned+"/" != p {
		return false
	}
	switch method {
	case http.MethodPost:
		return p == "/load" || p == caddyjson.TablesPath
	case http.MethodGet:
		return p == caddyjson.TablesPath || p == "/config/" || strings.HasPrefix(p, "/config/") || p == "/reverse_proxy/upstreams" || isObjectID(p)
	}
	return false
}

// isObjectID reports whether p is /id/<id> with a non-empty id and nothing after it.
func isObjectID(p string) bool {
	id, ok := strings.CutPrefix(p, "/id/")
	return ok && id != "" && !strings.Contains(id, "/")
}

func (s *Server) handler() http.Handler {
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			// Caddy checks Host only for TCP admin listeners; a fixed value keeps it sane.
			pr.Out.URL.Host = "caddy-admin"
			pr.Out.Host = "caddy-admin"
			// Origin, Referer and Sec-Fetch-* make Caddy enforce origins even on a unix
			// socket; the operator never sends them.
			for _, h := range []string{"Origin", "Referer", "Sec-Fetch-Mode", "Sec-Fetch-Site", "Sec-Fetch-Dest", "Sec-Fetch-User"} {
				pr.Out.Header.Del(h)
			}
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, "unix", s.opts.Socket)
			},
			ResponseHeaderTimeout: s.opts.UpstreamTimeout,
			MaxIdleConns:          4,
			IdleConnTimeout:       30 * time.Second,
			DisableCompression:    true,
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			s.opts.Logger.Warn("Forwarding to Caddy failed", "method", r.Method, "path", r.URL.Path, "error", err.Error())
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "caddy admin unreachable", http.StatusBadGateway)
		},
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Defence in depth: the handshake already required the identity.
		if r.TLS == nil || !hasIdentity(*r.TLS, s.opts.Identity) {
			s.refuse(w, r, http.StatusForbidden, "client is not the operator")
			return
		}
		if !Allowed(r.Method, r.URL.Path, r.URL.RawPath) {
			s.refuse(w, r, http.StatusForbidden, "admin call not allowed")
			return
		}
		if r.ContentLength > MaxBodyBytes {
			s.refuse(w, r, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		rp.ServeHTTP(w, r)
	})
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.opts.Logger.Info("Refused admin call", "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "status", code)
	http.Error(w, msg, code)
}

// probeFilter drops the "TLS handshake error ... EOF" line net/http logs for every TCP
// readiness probe of the admin port (the kubelet connects and closes without a
// handshake). Refused handshakes are still logged.
type probeFilter struct{ next *log.Logger }

func (f probeFilter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	if strings.Contains(msg, "TLS handshake error") && strings.HasSuffix(msg, ": EOF") {
		return len(p), nil
	}
	f.next.Print(msg)
	return len(p), nil
}
