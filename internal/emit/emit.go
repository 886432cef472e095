// Package emit turns the IR of one Gateway into Caddy's native JSON config and its
// hash, and the route tables of its HTTP listeners: the config names each listener's
// table and does not depend on its routes, so that a route change leaves the config as
// it is. It is pure: no I/O, no clock; the same IR and Options always give the same
// bytes (struct fields in fixed order, maps sorted, lists in IR order). The bytes are
// those encoding/json would write for the typed config, written without reflection
// (caddyjson.Config.AppendJSON, caddyjson.RouteLists).
//
// Every user-supplied string that reaches a Caddy field expanding placeholders is
// escaped (see escape.go); matchers use regular expressions, which Caddy never expands.
package emit

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// Defaults of Options.
const (
	// DefaultAdminListen is the admin endpoint: a unix socket shared with the admin-proxy sidecar.
	DefaultAdminListen = "unix//run/caddy/admin.sock"
	// DefaultGracePeriod bounds how long old servers drain on reload (Caddy's own default waits forever).
	DefaultGracePeriod = "15s"
	// DefaultReadinessPort serves GET /ready -> 200 once a pushed config is running; the
	// pod's readinessProbe targets it. 8081 is outside the usual listener ports.
	DefaultReadinessPort = 8081
	// DefaultInvalidBackendSocket is a loopback-only server answering 500; invalid
	// backendRefs dial it so that their share of requests fails as the spec requires.
	DefaultInvalidBackendSocket = "/run/caddy/invalid-backend.sock"
	// DefaultRefusedBackend is what invalid backendRefs of TCP routes dial: a unix socket
	// nobody listens on, so that the connections of their share are closed at once.
	DefaultRefusedBackend = "unix//run/caddy/refused-backend.sock"
	// DefaultMetricsPort serves GET /metrics (Prometheus text) unless DisableMetrics.
	DefaultMetricsPort = 9180
)

// Options tune what Emit writes around the routes. The zero value uses the defaults.
type Options struct {
	// AdminListen is admin.listen; DefaultAdminListen when empty.
	AdminListen string
	// GracePeriod is apps.http.grace_period; DefaultGracePeriod when empty.
	GracePeriod string
	// ShutdownDelay is how long a stop of the running config (the process exiting) is
	// held while every listener keeps accepting (events.handlers.gateway_drain, on
	// "stopping"); none when empty.
	ShutdownDelay string
	// ReadinessPort is the port of the readiness server; DefaultReadinessPort when 0.
	ReadinessPort int32
	// ListenHost is the host part of every TCP listen address; empty binds all interfaces.
	ListenHost string
	// InvalidBackendSocket is the unix socket of the 500 server; DefaultInvalidBackendSocket when empty.
	InvalidBackendSocket string
	// RefusedBackend is the dial address of invalid TCP backends; DefaultRefusedBackend
	// when empty. Nothing may listen there.
	RefusedBackend string
	// Servers tunes the HTTP servers of the listener ports; the zero value keeps Caddy's
	// defaults.
	Servers ServerOptions
	// StreamCloseDelay is stream_close_delay of every reverse_proxy: how long WebSockets
	// and other upgraded connections stay open after a reload; empty closes them at once.
	StreamCloseDelay string
	// LogLevel is the level of Caddy's own log (logging.logs.default.level): DEBUG, INFO,
	// WARN or ERROR; empty is Caddy's default, INFO.
	LogLevel string
	// AccessLogFormat turns on access logs, one entry per request of every listener
	// server, written to stdout as "json" or "console"; empty writes none.
	AccessLogFormat string
	// LogFile, when set, receives the access log and Caddy's own log instead of stdout and
	// stderr. The operator leaves it empty; tests read the logs from it.
	LogFile string
	// MetricsPort is the port of the metrics server, which answers GET /metrics with
	// Prometheus metrics of every server; DefaultMetricsPort when 0.
	MetricsPort int32
	// DisableMetrics leaves out the metrics server and request metrics.
	DisableMetrics bool
	// ACMEStorage is the top-level storage module (JSON with its "module" key) of a
	// config with automatic certificates; empty is the Gateway's storage Secrets
	// (acmestore), which every Caddy pod of the Gateway shares. Tests use Caddy's
	// file_system storage.
	ACMEStorage json.RawMessage
	// HTTPChallengePort is the port of the HTTP server the CA's HTTP-01 validation
	// reaches; DefaultHTTPChallengePort when 0. Tests that cannot bind port 80 set theirs.
	HTTPChallengePort int32
	// TLSALPNChallengePort is the port of the HTTPS server the CA's TLS-ALPN-01
	// validation reaches; DefaultTLSALPNChallengePort when 0.
	TLSALPNChallengePort int32
	// RenewInterval is how often managed certificates are checked for renewal
	// (duration string); Caddy's default, 10m, when empty.
	RenewInterval string
	// HoldACMEOrders leaves out tls.certificates.automate, the names obtained ahead, so
	// that Caddy orders nothing before the CA's validation can reach it: the operator
	// sets it while no Caddy pod of the Gateway is ready. Everything else of automatic
	// certificates stays (storage, issuer, policies, on-demand issuance, which handshakes
	// reach only on ready pods, the state recorder).
	HoldACMEOrders bool
	// Memo, when set, keeps the host tables of this emit for the Gateway's next one (see
	// Memo); the Result does not depend on it.
	Memo *Memo
}

func (o Options) withDefaults() Options {
	if o.AdminListen == "" {
		o.AdminListen = DefaultAdminListen
	}
	if o.GracePeriod == "" {
		o.GracePeriod = DefaultGracePeriod
	}
	if o.ReadinessPort == 0 {
		o.ReadinessPort = DefaultReadinessPort
	}
	if o.InvalidBackendSocket == "" {
		o.InvalidBackendSocket = DefaultInvalidBackendSocket
	}
	if o.MetricsPort == 0 {
		o.MetricsPort = DefaultMetricsPort
	}
	if o.RefusedBackend == "" {
		o.RefusedBackend = DefaultRefusedBackend
	}
	if o.HTTPChallengePort == 0 {
		o.HTTPChallengePort = DefaultHTTPChallengePort
	}
	if o.TLSALPNChallengePort == 0 {
		o.TLSALPNChallengePort = DefaultTLSALPNChallengePort
	}
	return o
}

// Result is an emitted config.
type Result struct {
	// JSON is the config to POST to Caddy's /load. Its admin object carries the "@id"
	// ConfigID(Hash), so that Caddy answers GET /id/<ConfigID(Hash)> only while it runs
	// this config.
	JSON []byte
	// Hash is the hex SHA-256 of JSON without that "@id"; equal hashes mean nothing to push.
	Hash string
	// Tables are the host tables of every HTTP listener's route table, to send to Caddy's
	// admin API at caddyjson.TablesPath: servers by port, listeners and host groups in IR
	// order. JSON names the tables but holds none of their routes.
	Tables []caddyjson.HostTable
}

// Size is the bytes of the frame and of every host table's routes.
func (r *Result) Size() int {
	n := len(r.JSON)
	for i := range r.Tables {
		n += len(r.Tables[i].Routes)
	}
	return n
}

// ConfigID is the "@id" a config of the given hash carries on its admin object. Caddy
// indexes "@id" values at every load and strips them before decoding, so the id changes
// nothing Caddy runs; GET /id/<ConfigID(hash)> on its admin API answers 200 with the admin
// object (a hundred bytes) while that config runs, and 404 otherwise.
func ConfigID(hash string) string { return "caddygateway-config-" + hash }

// adminPrefix is how every emitted config begins: the admin object is written first and
// always holds admin.listen.
var adminPrefix = []byte(`{"admin":{"`)

// Emit renders g as a Caddy config.
func Emit(g *ir.Gateway, opts Options) (Result, error) {
	cfg, e, err := config(g, opts)
	if err != nil {
		return Result{}, err
	}
	h := startHasher()
	b, err := cfg.AppendJSONFlushing(make([]byte, 0, frameSizeHint(g)), h.write)
	sum := h.sum()
	if err != nil {
		return Result{}, fmt.Errorf("encoding Caddy config of Gateway %s/%s: %w", g.Namespace, g.Name, err)
	}
	hash := hex.EncodeToString(sum)
	b, err = withConfigID(b, ConfigID(hash))
	if err != nil {
		return Result{}, fmt.Errorf("encoding Caddy config of Gateway %s/%s: %w", g.Namespace, g.Name, err)
	}
	tables, err := e.tables(g)
	if err != nil {
		return Result{}, fmt.Errorf("encoding route tables of Gateway %s/%s: %w", g.Namespace, g.Name, err)
	}
	e.memo.done()
	return Result{JSON: b, Hash: hash, Tables: tables}, nil
}

// withConfigID inserts "@id": id as the first field of b's admin object. The id is hex
// and a fixed prefix: it needs no escaping.
func withConfigID(b []byte, id string) ([]byte, error) {
	if !bytes.HasPrefix(b, adminPrefix) {
		return nil, fmt.Errorf("the config does not begin with its admin object")
	}
	at := len(adminPrefix) - 1 // before the quote of the admin object's first key
	return slices.Insert(b, at, []byte(`"@id":"`+id+`",`)...), nil
}

// frameSizeHint estimates the encoded size of g's config: about 512 bytes per listener
// and per layer4 server, and the certificates.
func frameSizeHint(g *ir.Gateway) int {
	n := 4096 + 512*(len(g.TCP)+len(g.UDP)+len(g.TLS))
	for i := range g.HTTP {
		n += 512 * len(g.HTTP[i].Listeners)
	}
	for _, c := range g.Certificates {
		n += len(c.CertPEM) + len(c.KeyPEM) + 256
	}
	return n
}

// Config renders g as a typed Caddy config: Result.JSON, without its "@id" (see Emit).
// It holds none of the routes of HTTP listeners, which are in Result.Tables.
func Config(g *ir.Gateway, opts Options) (*caddyjson.Config, error) {
	opts.Memo = nil
	cfg, _, err := config(g, opts)
	return cfg, err
}

// config is Config, and the emitter that rendered it.
func config(g *ir.Gateway, opts Options) (*caddyjson.Config, *emitter, error) {
	o := opts.withDefaults()
	if err := o.check(); err != nil {
		return nil, nil, err
	}
	certs, err := checkBackendTLS(g)
	if err != nil {
		return nil, nil, err
	}
	persist := false
	e := &emitter{opts: o, handlerCache: map[*ir.Action]int32{}, proxyCache: map[string]int32{},
		hostLists: map[*ir.HostGroup][]int32{}, certs: certs, tlsIDs: map[*ir.BackendTLS]int{}, memo: useMemo(o, certs)}
	servers := map[string]*caddyjson.Server{}
	for i := range g.HTTP {
		s := &g.HTTP[i]
		if err := o.checkListenerPort(s.Port); err != nil {
			return nil, nil, err
		}
		e.renderLists(s)
		srv := e.server(s)
		if o.AccessLogFormat != "" {
			srv.Logs = &caddyjson.ServerLogs{}
		}
		servers[fmt.Sprintf("port-%d", s.Port)] = srv
	}
	servers["readiness"] = e.readinessServer()
	if !o.DisableMetrics {
		servers["metrics"] = e.metricsServer()
	}
	if len(g.HTTP) > 0 {
		// Present whether or not a route has an invalid backend: the config does not
		// depend on the routes.
		servers["invalid-backend"] = &caddyjson.Server{
			Listen:    []string{"unix/" + o.InvalidBackendSocket},
			Routes:    invalidBackendRoutes(),
			AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true},
		}
	}
	cfg := &caddyjson.Config{
		Admin:   &caddyjson.Admin{Listen: o.AdminListen, Config: &caddyjson.AdminConfigSettings{Persist: &persist}},
		Logging: o.logging(),
		Apps:    caddyjson.Apps{HTTP: &caddyjson.HTTPApp{GracePeriod: o.GracePeriod, Servers: servers}},
	}
	if !o.DisableMetrics {
		cfg.Apps.HTTP.Metrics = &caddyjson.HTTPMetrics{}
	}
	if served := servedCertificates(g); len(served) > 0 {
		cfg.Apps.TLS = tlsApp(served)
	}
	if err := o.withACME(cfg, g); err != nil {
		return nil, nil, fmt.Errorf("automatic certificates of Gateway %s/%s: %w", g.Namespace, g.Name, err)
	}
	o.withDrain(cfg)
	if len(g.TCP)+len(g.UDP)+len(g.TLS) > 0 {
		l4, err := e.layer4App(g.TCP, g.UDP)
		if err != nil {
			return nil, nil, err
		}
		if err := e.tlsServers(g, l4, servers); err != nil {
			return nil, nil, err
		}
		if len(l4.Servers) > 0 {
			cfg.Apps.Layer4 = l4
		}
	}
	return cfg, e, nil
}

// emitter carries options and what the routes turned out to need.
type emitter struct {
	opts Options
	// certs are the client certificates presented to backends, by name.
	certs map[string]*ir.Certificate
	// tlsIDs and tlsDistinct number the distinct backend TLS settings (tlsID).
	tlsIDs      map[*ir.BackendTLS]int
	tlsDistinct []*ir.BackendTLS
	// lists are the distinct handler lists rendered so far.
	lists [][]caddyjson.Handler
	// handlerCache indexes the lists of actions other than plain proxies by action.
	handlerCache map[*ir.Action]int32
	// proxyCache indexes the lists of plain proxy actions by content (proxyKey).
	proxyCache map[string]int32
	keyBuf     []byte
	// hostLists holds, per host group, the index in lists of each route's handler list.
	hostLists map[*ir.HostGroup][]int32
	// routes counts the routes of HTTP listeners.
	routes int
	// patterns holds the regexp patterns of the streamed routes.
	patterns patterns
	// memo holds the host tables of the last emit (Options.Memo).
	memo memoUse
}

// checkListenerPort refuses a listener port the readiness or metrics server uses.
func (o Options) checkListenerPort(port int32) error {
	if port == o.ReadinessPort {
		return fmt.Errorf("listener port %d is reserved for the readiness server", port)
	}
	if !o.DisableMetrics && port == o.MetricsPort {
		return fmt.Errorf("listener port %d is reserved for the metrics server", port)
	}
	return nil
}

func (e *emitter) listen(port int32) []string {
	return []string{fmt.Sprintf("%s:%d", e.opts.ListenHost, port)}
}

func (e *emitter) readinessServer() *caddyjson.Server {
	return &caddyjson.Server{
		Listen: e.listen(e.opts.ReadinessPort),
		Routes: []caddyjson.Route{
			{
				Match:  []caddyjson.MatcherSet{{Path: []string{"/ready"}}},
				Handle: []caddyjson.Handler{caddyjson.StaticResponse{Handler: "static_response", StatusCode: 200, Body: "ready"}},
			},
			{Handle: []caddyjson.Handler{status(404)}},
		},
		AutoHTTPS: &caddyjson.AutoHTTPS{Disable: true},
	}
}

func status(code int) caddyjson.StaticResponse {
	return caddyjson.StaticResponse{Handler: "static_response", StatusCode: code}
}

func tlsApp(certs []ir.Certificate) *caddyjson.TLSApp {
	app := &caddyjson.TLSApp{Certificates: &caddyjson.Certificates{}}
	for _, c := range certs {
		app.Certificates.LoadPEM = append(app.Certificates.LoadPEM,
			caddyjson.PEMCertificate{Certificate: c.CertPEM, Key: c.KeyPEM, Tags: []string{c.Name}})
	}
	return app
}
