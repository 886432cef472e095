// Package mirror is the Caddy HTTP handler module http.handlers.gateway_mirror: it
// sends a copy of a sampled fraction of requests to mirror upstreams, fire-and-forget,
// as the Gateway API RequestMirror filter asks. Core Caddy has no such handler.
//
// The mirrored copy never changes the main request: its body reaches the next handler
// intact, mirror responses are discarded, mirror failures are only logged, and the main
// request waits for nothing but the buffering of a bounded request body of known
// length (a body of unknown length, such as a gRPC stream, is recorded while it is
// forwarded, and copied once it ends). The package must not grow into a general
// proxy: no load balancing, retries or health checks.
//
// What a handler holds for its copies is bounded: at most MaxInFlight copies are
// outstanding at once (default 1024), and the bodies and headers buffered or recorded
// for them, counted per request however many upstreams it goes to, total at most
// MaxBufferedBytes (default 8 MiB) for the handler. A request whose copy would pass
// either bound is served as usual and not mirrored (a recording that passes the byte
// bound mid-stream is abandoned); the drop is logged at debug level only. A slow
// mirror backend therefore costs a route at most MaxBufferedBytes of memory and drops
// copies, never slows the main requests.
package mirror

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/caddy-gateway/operator/internal/caddymod/backendtls"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// Defaults of the optional fields.
const (
	DefaultMaxBodySize = 1 << 20
	DefaultTimeout     = caddy.Duration(10 * time.Second)
	DefaultMaxInFlight = 1024
	// DefaultMaxBufferedBytes bounds what one handler holds for its copies.
	DefaultMaxBufferedBytes = 8 << 20
)

// ProtocolH2C is the Protocol value for cleartext HTTP/2.
const ProtocolH2C = "h2c"

// Handler mirrors requests to Upstreams. Each request draws once: when sampled, every
// upstream gets a copy.
type Handler struct {
	// Upstreams receive the copies; each is a "host:port" to dial, in cleartext unless
	// TLS is set. Placeholders are not expanded.
	Upstreams []Upstream `json:"upstreams,omitempty"`
	// Protocol is how copies are sent: "h2c" (HTTP/2 with prior knowledge, what gRPC
	// backends speak; with TLS, HTTP/2 negotiated by ALPN) or empty for HTTP/1.1.
	Protocol string `json:"protocol,omitempty"`
	// TLS, when set, sends the copies over TLS, verified as the gateway_tls transport
	// verifies backends (BackendTLSPolicy); a copy that fails verification is dropped.
	TLS *backendtls.Settings `json:"tls,omitempty"`
	// Percent of requests mirrored, 0 to 100 (fractions allowed); nil mirrors all.
	Percent *float64 `json:"percent,omitempty"`
	// MaxBodySize is the largest request body, in bytes, that is mirrored; a request
	// with a larger body is forwarded normally but not mirrored. Default 1 MiB.
	MaxBodySize int64 `json:"max_body_size,omitempty"`
	// Timeout bounds each mirrored request, response included. Default 10s.
	Timeout caddy.Duration `json:"timeout,omitempty"`
	// MaxInFlight bounds the mirrored requests outstanding at once in this handler;
	// copies beyond it are dropped. Default 1024.
	MaxInFlight int `json:"max_in_flight,omitempty"`
	// MaxBufferedBytes bounds the bytes this handler holds at once for its copies:
	// request bodies buffered or recorded for them and the copies' headers, counted
	// once per request whatever the number of upstreams, until the last copy of the
	// request has ended. A request whose copy would pass the bound is not mirrored.
	// Default 8 MiB.
	MaxBufferedBytes int64 `json:"max_buffered_bytes,omitempty"`

	ctx       caddy.Context
	logger    *slog.Logger
	transport *http.Transport
	client    *http.Client
	inflight  chan struct{}
	buffered  *budget
	// draw returns a number in [0, 100); tests replace it.
	draw func() float64
}

// Upstream is one mirror destination.
type Upstream struct {
	// Dial is the "host:port" to send copies to.
	Dial string `json:"dial"`
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.gateway_mirror",
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision sets defaults and builds the HTTP client of the copies. Copies in flight
// are cancelled when the config is unloaded (ctx is done).
func (h *Handler) Provision(ctx caddy.Context) error {
	h.ctx = ctx
	h.logger = ctx.Slogger()
	if h.MaxBodySize == 0 {
		h.MaxBodySize = DefaultMaxBodySize
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultTimeout
	}
	if h.MaxInFlight == 0 {
		h.MaxInFlight = DefaultMaxInFlight
	}
	if h.MaxBufferedBytes == 0 {
		h.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	h.inflight = make(chan struct{}, h.MaxInFlight)
	h.buffered = &budget{max: h.MaxBufferedBytes}
	h.transport = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: time.Duration(h.Timeout),
		DisableCompression:    true, // send the client's Accept-Encoding as it was
	}
	if h.TLS != nil {
		cfg, err := h.TLS.ClientConfig()
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		h.transport.TLSClientConfig, h.transport.TLSHandshakeTimeout = cfg, backendtls.HandshakeTimeout
	}
	if h.Protocol == ProtocolH2C {
		h.transport.Protocols = new(http.Protocols)
		if h.TLS != nil {
			h.transport.Protocols.SetHTTP2(true)
		} else {
			h.transport.Protocols.SetUnencryptedHTTP2(true)
		}
	}
	h.client = &http.Client{
		Transport:     h.transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if h.draw == nil {
		h.draw = func() float64 { return rand.Float64() * 100 }
	}
	return nil
}

// Validate checks the configuration.
func (h *Handler) Validate() error {
	for i, u := range h.Upstreams {
		host, port, err := net.SplitHostPort(u.Dial)
		if err != nil || host == "" || port == "" {
			return fmt.Errorf("upstreams[%d]: dial %q is not host:port", i, u.Dial)
		}
	}
	if h.Protocol != "" && h.Protocol != ProtocolH2C {
		return fmt.Errorf("protocol %q is not supported; use %q or leave it empty for HTTP/1.1", h.Protocol, ProtocolH2C)
	}
	if p := h.Percent; p != nil && !(*p >= 0 && *p <= 100) {
		return fmt.Errorf("percent %v is outside 0..100", *p)
	}
	if h.MaxBodySize < 0 || h.Timeout < 0 || h.MaxInFlight < 0 || h.MaxBufferedBytes < 0 {
		return fmt.Errorf("max_body_size, timeout, max_in_flight and max_buffered_bytes must not be negative")
	}
	return nil
}

// Cleanup closes idle connections to the upstreams.
func (h *Handler) Cleanup() error {
	if h.transport != nil {
		h.transport.CloseIdleConnections()
	}
	return nil
}

// ServeHTTP mirrors a sampled request, then passes it on unchanged.
// A body of unknown length (chunked HTTP/1.1, HTTP/2 without Content-Length, every
// gRPC call) may be a stream whose sender waits for the answer before it sends more:
// it is not read ahead but recorded as the next handler reads it, and the copies go
// out once it has been read to its end; what was recorded of a body not read to its
// end by the time the next handler returns is dropped.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	if len(h.Upstreams) == 0 || !h.sampled() || !mirrorable(r) {
		return next.ServeHTTP(w, r)
	}
	src := h.snapshotOf(r)
	held := headerSize(src.Header)
	if !h.buffered.reserve(held) {
		h.logger.Debug("mirror copy dropped: buffer budget spent")
		return next.ServeHTTP(w, r)
	}
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		rec := &recordingBody{ReadCloser: r.Body, h: h, req: src, held: held}
		r.Body = rec
		defer rec.abandon()
	} else if body, n, ok := h.bufferBody(r); ok {
		h.send(src, body, held+n)
	} else {
		h.buffered.release(held + n)
	}
	return next.ServeHTTP(w, r)
}

func (h *Handler) sampled() bool {
	if h.Percent == nil || *h.Percent >= 100 {
		return true
	}
	return *h.Percent > 0 && h.draw() < *h.Percent
}

// mirrorable excludes protocol switches (WebSocket and the like) and CONNECT: a copy
// of those cannot be replayed.
func mirrorable(r *http.Request) bool {
	return r.Method != http.MethodConnect && r.Header.Get("Upgrade") == ""
}

// bufferBody reads the request body of known length, up to MaxBodySize, for the
// copies, and puts what it read back in front of the rest for the next handler. The
// length is reserved in the budget before anything is read; held is what stays
// reserved. ok is false when the body is too large, does not fit the budget or could
// not be read: then nothing is mirrored.
func (h *Handler) bufferBody(r *http.Request) (body []byte, held int64, ok bool) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, 0, true
	}
	if r.ContentLength > h.MaxBodySize {
		return nil, 0, false
	}
	if !h.buffered.reserve(r.ContentLength) {
		h.logger.Debug("mirror copy dropped: buffer budget spent")
		return nil, 0, false
	}
	buf := make([]byte, r.ContentLength)
	n, err := io.ReadFull(r.Body, buf)
	r.Body = replayBody{Reader: io.MultiReader(bytes.NewReader(buf[:n]), r.Body), Closer: r.Body}
	if err != nil {
		return nil, r.ContentLength, false
	}
	return buf, r.ContentLength, true
}

// replayBody is the buffered start of a body followed by its unread rest.
type replayBody struct {
	io.Reader
	io.Closer
}

// send starts one copy of src per upstream with a free in-flight slot; each runs on
// its own with the handler's timeout. The held bytes are released when the last copy
// has ended, or now when none could start.
func (h *Handler) send(src *http.Request, body []byte, held int64) {
	dials := make([]string, 0, len(h.Upstreams))
	for _, u := range h.Upstreams {
		select {
		case h.inflight <- struct{}{}:
			dials = append(dials, u.Dial)
		default:
			h.logger.Debug("mirror copy dropped: too many in flight", "upstream", u.Dial)
		}
	}
	if len(dials) == 0 {
		h.buffered.release(held)
		return
	}
	l := &lease{b: h.buffered, n: held}
	l.left.Store(int32(len(dials)))
	for _, dial := range dials {
		go h.do(h.newRequest(src, dial, body), dial, l)
	}
}

// newRequest is the copy of src for one upstream. The copies of a request share its
// header and body, which the client only reads.
func (h *Handler) newRequest(src *http.Request, dial string, body []byte) *http.Request {
	scheme := "http"
	if h.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: dial, Path: src.URL.Path, RawPath: src.URL.RawPath, RawQuery: src.URL.RawQuery}
	req := (&http.Request{
		Method:     src.Method,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     src.Header,
		Host:       src.Host,
	}).WithContext(h.ctx) // the deadline is added in do, where it is cancelled
	if len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req
}

func (h *Handler) do(req *http.Request, dial string, l *lease) {
	defer func() { <-h.inflight }()
	defer l.done()
	ctx, cancel := context.WithTimeout(req.Context(), time.Duration(h.Timeout))
	defer cancel()
	resp, err := h.client.Do(req.WithContext(ctx))
	if err != nil {
		h.logger.Debug("mirror copy failed", "upstream", dial, "error", err)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
}

// hopByHop are the headers that describe one connection, not the request (RFC 9110
// section 7.6.1); the copy's own connection sets its own.
var hopByHop = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// snapshotOf keeps what a copy needs of r, which later handlers may change: the copy's
// header is r's without its hop-by-hop fields.
func (h *Handler) snapshotOf(r *http.Request) *http.Request {
	header := r.Header.Clone()
	removeHopByHop(header)
	if h.Protocol == ProtocolH2C && strings.EqualFold(r.Header.Get("Te"), "trailers") {
		header.Set("Te", "trailers") // the one TE HTTP/2 allows; gRPC servers ask for it
	}
	u := *r.URL
	return &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: header}
}

func removeHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				h.Del(f)
			}
		}
	}
	for _, n := range hopByHop {
		h.Del(n)
	}
}

// Interface guards.
var (
	_ caddy.Provisioner           = (*Handler)(nil)
	_ caddy.Validator             = (*Handler)(nil)
	_ caddy.CleanerUpper          = (*Handler)(nil)
	_ caddyhttp.MiddlewareHandler = (*Handler)(nil)
)
