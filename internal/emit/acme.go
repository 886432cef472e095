package emit

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/ir"
)

// Defaults of the ACME options.
const (
	// DefaultHTTPChallengePort is the port whose HTTP server answers HTTP-01: the CA
	// validates on port 80.
	DefaultHTTPChallengePort = 80
	// DefaultTLSALPNChallengePort is the port whose HTTPS server answers TLS-ALPN-01:
	// the CA validates on port 443.
	DefaultTLSALPNChallengePort = 443
)

// Issuer modules: Caddy's own, and the operator's, which also takes the trusted roots
// of the directory inline (Caddy's takes files only).
const (
	acmeIssuerModule        = "acme"
	gatewayACMEIssuerModule = "gateway_acme"
)

// certificateEvents are the events of caddytls the certificate-state recorder records.
var certificateEvents = []string{"cert_obtaining", "cert_obtained", "cert_failed", "cert_ocsp_revoked"}

// automaticListener is a listener whose certificates are obtained over ACME, with the
// port of its server.
type automaticListener struct {
	port int32
	l    *ir.Listener
}

// automaticListeners are the HTTPS listeners presenting automatic certificates: those
// asking for them and holding no certificates from Secrets, which win.
func automaticListeners(g *ir.Gateway) []automaticListener {
	var out []automaticListener
	for i := range g.HTTP {
		s := &g.HTTP[i]
		if !s.TLS {
			continue
		}
		for j := range s.Listeners {
			if l := &s.Listeners[j]; usesAutomatic(l) {
				out = append(out, automaticListener{port: s.Port, l: l})
			}
		}
	}
	return out
}

// usesAutomatic reports whether l presents automatic certificates.
func usesAutomatic(l *ir.Listener) bool {
	return l.Automatic != nil && len(l.Certificates) == 0
}

// withACME adds to cfg what automatic certificates need: the shared storage, the tls
// app's automation (names obtained ahead, the issuer, on-demand issuance limited to the
// attached routes' hostnames) and the subscription of the certificate-state recorder.
// Nothing is added when no listener presents automatic certificates.
func (o Options) withACME(cfg *caddyjson.Config, g *ir.Gateway) error {
	auto := automaticListeners(g)
	if len(auto) == 0 {
		return nil
	}
	if g.ACME == nil {
		return fmt.Errorf("listener %q asks for automatic certificates but the Gateway has no ACME settings", auto[0].l.Name)
	}
	issuer, err := o.acmeIssuer(g.ACME)
	if err != nil {
		return err
	}
	storage, err := o.acmeStorage(g)
	if err != nil {
		return err
	}
	cfg.Storage = storage
	if cfg.Apps.TLS == nil {
		cfg.Apps.TLS = &caddyjson.TLSApp{}
	}
	automation, names := o.automation(auto, issuer)
	cfg.Apps.TLS.Automation = automation
	if len(names) > 0 && !o.HoldACMEOrders {
		if cfg.Apps.TLS.Certificates == nil {
			cfg.Apps.TLS.Certificates = &caddyjson.Certificates{}
		}
		cfg.Apps.TLS.Certificates.Automate = names
	}
	cfg.Apps.Events = &caddyjson.EventsApp{Subscriptions: []caddyjson.EventSubscription{{
		Events: certificateEvents, Handlers: []caddyjson.EventHandler{{Handler: acmestore.RecorderModule}},
	}}}
	return nil
}

// acmeStorage is the top-level storage: Options.ACMEStorage, or the Gateway's storage
// Secrets, which every replica shares.
func (o Options) acmeStorage(g *ir.Gateway) (json.RawMessage, error) {
	if len(o.ACMEStorage) > 0 {
		return o.ACMEStorage, nil
	}
	b, err := json.Marshal(struct {
		Module string `json:"module"`
		acmestore.StorageConfig
	}{acmestore.StorageModule, acmestore.For(g.Namespace, g.Name)})
	if err != nil {
		return nil, fmt.Errorf("encoding the ACME storage: %w", err)
	}
	return b, nil
}

// automation is the tls app's automation of the automatic listeners, and the names
// obtained ahead (sorted, once each). The names obtained ahead share one policy; when a
// listener issues on demand, a catch-all policy does and the on-demand permission
// lists every such listener with its route table.
func (o Options) automation(auto []automaticListener, issuer caddyjson.ACMEIssuer) (*caddyjson.TLSAutomation, []string) {
	a := &caddyjson.TLSAutomation{RenewInterval: o.RenewInterval}
	var names []string
	var perm *caddyjson.RoutesPermission
	for _, al := range auto {
		names = append(names, al.l.Automatic.Names...)
		if al.l.Automatic.OnDemand {
			if perm == nil {
				perm = &caddyjson.RoutesPermission{Module: caddyjson.RoutesPermissionModule}
			}
			perm.Listeners = append(perm.Listeners, caddyjson.OnDemandListener{
				Table: caddyjson.TableName(al.port, al.l.Hostname), Hostname: al.l.Hostname,
			})
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	if len(names) > 0 {
		a.Policies = append(a.Policies, caddyjson.AutomationPolicy{Subjects: names, Issuers: []caddyjson.ACMEIssuer{issuer}})
	}
	if perm != nil {
		a.Policies = append(a.Policies, caddyjson.AutomationPolicy{Issuers: []caddyjson.ACMEIssuer{issuer}, OnDemand: true})
		a.OnDemand = &caddyjson.OnDemand{Permission: perm}
	}
	return a, names
}

// acmeIssuer renders the Gateway's ACME settings (Caddy expands placeholders in the
// directory, the email and the EAB credentials: they are escaped). A challenge type left out of
// a.Challenges is disabled; the solvers of those enabled are pointed at the ports of
// Caddy's own servers, which answer the challenges (HTTP-01 in every HTTP server before
// routing, TLS-ALPN-01 in the handshake), so that they never listen themselves.
func (o Options) acmeIssuer(a *ir.ACME) (caddyjson.ACMEIssuer, error) {
	if a.Directory == "" {
		return caddyjson.ACMEIssuer{}, fmt.Errorf("acme.directory is empty")
	}
	for _, c := range a.Challenges {
		if c != ir.ACMEChallengeHTTP01 && c != ir.ACMEChallengeTLSALPN01 {
			return caddyjson.ACMEIssuer{}, fmt.Errorf("acme.challenges: unknown challenge type %q", c)
		}
	}
	if len(a.Challenges) == 0 {
		return caddyjson.ACMEIssuer{}, fmt.Errorf("acme.challenges is empty: no challenge type can be answered")
	}
	iss := caddyjson.ACMEIssuer{Module: acmeIssuerModule, CA: lit(a.Directory), Email: lit(a.Email)}
	if a.TrustedRootsPEM != "" {
		iss.Module, iss.TrustedRootsPEM = gatewayACMEIssuerModule, a.TrustedRootsPEM
	}
	if e := a.ExternalAccount; e != nil {
		iss.ExternalAccount = &caddyjson.ExternalAccount{KeyID: lit(e.KeyID), MACKey: lit(e.MACKey)}
	}
	iss.Challenges = &caddyjson.ACMEChallenges{
		HTTP:     o.challenge(a, ir.ACMEChallengeHTTP01, o.HTTPChallengePort),
		TLSALPN:  o.challenge(a, ir.ACMEChallengeTLSALPN01, o.TLSALPNChallengePort),
		BindHost: o.ListenHost,
	}
	return iss, nil
}

func (o Options) challenge(a *ir.ACME, typ string, port int32) *caddyjson.ACMEChallenge {
	if !slices.Contains(a.Challenges, typ) {
		return &caddyjson.ACMEChallenge{Disabled: true}
	}
	return &caddyjson.ACMEChallenge{AlternatePort: port}
}

// checkACME refuses ACME options Caddy could not use.
func (o Options) checkACME() error {
	if len(o.ACMEStorage) > 0 {
		var m struct {
			Module string `json:"module"`
		}
		if err := json.Unmarshal(o.ACMEStorage, &m); err != nil || m.Module == "" {
			return fmt.Errorf("ACME storage %s is not a JSON object naming its module", o.ACMEStorage)
		}
	}
	for _, c := range []struct {
		name string
		port int32
	}{{"HTTP-01", o.HTTPChallengePort}, {"TLS-ALPN-01", o.TLSALPNChallengePort}} {
		if c.port < 0 || c.port > 65535 {
			return fmt.Errorf("%s challenge port %d is not a port", c.name, c.port)
		}
	}
	return nil
}
