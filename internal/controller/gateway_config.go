package controller

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/translator"
)

// configOutcome is what configuring a Gateway's data plane produced.
type configOutcome struct {
	translation translator.Output
	// sets are the ListenerSets that name the Gateway (the translation's input).
	sets []gwapiv1.ListenerSet
	// routes are the keys of the routes translated.
	routes routeKeys
	push   pusher.Result
	// blocked says why nothing could be pushed (no client certificate yet, a config
	// Caddy could not be given); empty when a push was attempted.
	blocked string
	// ordersHeld says that no Caddy pod of the Gateway is ready: the names obtained
	// ahead are not ordered yet (ordersHeld).
	ordersHeld bool
}

// translate reads from the cache everything else the translation of the Gateway needs
// beside the ListenerSets that name it (sets), including the certificate states its pods
// recorded, and translates it.
func (r *GatewayReconciler) translate(ctx context.Context, gw *gwapiv1.Gateway, sets []gwapiv1.ListenerSet, spec *v1alpha1.CaddyProxyConfigSpec) (configOutcome, error) {
	in, routes, err := r.translationInput(ctx, gw, sets)
	if err != nil {
		return configOutcome{}, err
	}
	if !memosOff.Load() {
		in.Memo = r.renderMemo(gw).checks
	}
	in.OwnPorts = infra.OwnPorts(spec)
	in.ACME = spec.ACME
	if asksForAutomatic(gw, in.ListenerSets) {
		if err := r.addAutomaticInputs(ctx, gw, &in); err != nil {
			return configOutcome{}, err
		}
	}
	if r.observeInput != nil {
		r.observeInput(&in)
	}
	return configOutcome{translation: translateGateway(in), sets: in.ListenerSets, routes: routes, ordersHeld: in.ACMEOrdersHeld}, nil
}

// renderMemo is what a Gateway's reconciles keep from one translation and emit to the
// next, so that a change costs what it changes: the checked rules of its routes and its
// rendered host tables.
type renderMemo struct {
	checks *translator.Memo
	tables *emit.Memo
}

// memosOff turns the Gateways' renderMemo off; a benchmark sets it to show what the memos
// save.
var memosOff atomic.Bool

// renderMemo returns the renderMemo of gw, creating it. A Gateway is reconciled by one
// worker at a time, so one translation or emit at a time uses it.
func (r *GatewayReconciler) renderMemo(gw *gwapiv1.Gateway) renderMemo {
	key := client.ObjectKeyFromObject(gw)
	m, ok := r.memos.load(key)
	if !ok {
		m = renderMemo{checks: translator.NewMemo(), tables: emit.NewMemo()}
		r.memos.store(key, m)
	}
	return m
}

// translateGateway is translator.Translate; the controller's tests count its calls.
var translateGateway = translator.Translate

// addAutomaticInputs adds to in what the translation of a Gateway whose listeners ask for
// automatic certificates needs beside its objects: the objects spec.acme names, the
// states its pods recorded, and whether its orders are held. A Gateway that does not ask
// costs none of these reads.
func (r *GatewayReconciler) addAutomaticInputs(ctx context.Context, gw *gwapiv1.Gateway, in *translator.Input) error {
	var err error
	if in.CertificateStates, err = r.certificateStates(ctx, gw); err != nil {
		return err
	}
	if err := r.addACMEInputs(ctx, gw, in.ACME, in); err != nil {
		return err
	}
	in.ACMEOrdersHeld, err = r.ordersHeld(ctx, gw)
	return err
}

// emitConfig is emit.Emit; the controller's tests record what it emits.
var emitConfig = emit.Emit

// configure emits the Caddy configuration of a translation (out) and pushes it to every
// Caddy pod that can take it.
func (r *GatewayReconciler) configure(ctx context.Context, gw *gwapiv1.Gateway, spec *v1alpha1.CaddyProxyConfigSpec, out configOutcome) (configOutcome, error) {
	opts := params.EmitOptions(spec.Caddy)
	opts.HoldACMEOrders = out.ordersHeld
	if !memosOff.Load() {
		opts.Memo = r.renderMemo(gw).tables
	}
	cfg, err := emitConfig(out.translation.IR, opts)
	if err != nil {
		out.blocked = fmt.Sprintf("the configuration cannot be rendered: %v", err)
		return out, nil
	}
	configSize.Observe(float64(cfg.Size()))
	targets, err := r.pushTargets(ctx, gw)
	if err != nil {
		return out, err
	}
	tlsCfg, reason, err := r.adminClientTLS(ctx, gw)
	if err != nil || reason != "" {
		out.blocked = reason
		return out, err
	}
	port := params.DefaultAdminPort
	if spec.ControlPlane != nil && spec.ControlPlane.AdminPort != nil {
		port = *spec.ControlPlane.AdminPort
	}
	out.push = r.Pusher.Push(ctx, pusher.Request{
		Gateway: client.ObjectKeyFromObject(gw).String(), Targets: targets,
		Config: pusher.Config{JSON: cfg.JSON, Hash: cfg.Hash, ID: emit.ConfigID(cfg.Hash), Tables: cfg.Tables},
		TLS:    tlsCfg, Port: port,
		Tuning: pushTuning(spec),
	})
	pushBytes.Add(float64(out.push.Bytes))
	return out, nil
}

// pushTuning is the CaddyProxyConfig's controlPlane.push; unset fields keep the
// pusher's defaults.
func pushTuning(spec *v1alpha1.CaddyProxyConfigSpec) pusher.Tuning {
	var t pusher.Tuning
	if spec == nil || spec.ControlPlane == nil || spec.ControlPlane.Push == nil {
		return t
	}
	p := spec.ControlPlane.Push
	if p.Timeout != nil {
		t.Timeout = p.Timeout.Duration
	}
	if p.InitialBackoff != nil {
		t.InitialBackoff = p.InitialBackoff.Duration
	}
	if p.MaxBackoff != nil {
		t.MaxBackoff = p.MaxBackoff.Duration
	}
	if p.MaxConcurrentPods != nil {
		t.MaxConcurrent = int(*p.MaxConcurrentPods)
	}
	if p.MinInterval != nil {
		t.MinInterval = p.MinInterval.Duration
	}
	return t
}

// adminClientTLS builds the operator's client TLS configuration for a Gateway from its
// client certificate Secret and its trust bundle, both in the operator's namespace. A
// non-empty reason says why it is not available yet. What it built from the Secrets as
// they are is reused (adminTLSMemo); the configuration must not be modified.
func (r *GatewayReconciler) adminClientTLS(ctx context.Context, gw *gwapiv1.Gateway) (*tls.Config, string, error) {
	n := certs.NamesFor(gw.Namespace, gw.Name)
	secrets := map[string]*corev1.Secret{}
	for _, name := range []string{n.Client, n.Trust} {
		var s corev1.Secret
		if err := r.Get(ctx, client.ObjectKey{Namespace: r.Operator.Namespace, Name: name}, &s); err != nil {
			if client.IgnoreNotFound(err) == nil {
				return nil, fmt.Sprintf("waiting for the admin Secret %s/%s", r.Operator.Namespace, name), nil
			}
			return nil, "", err
		}
		secrets[name] = &s
	}
	key := adminTLSKey{uid: gw.UID, clientVersion: secrets[n.Client].ResourceVersion, trustVersion: secrets[n.Trust].ResourceVersion}
	if e, ok := r.adminTLS.built(client.ObjectKeyFromObject(gw), key); ok {
		return e.config, e.reason, nil
	}
	if r.observeWork != nil {
		r.observeWork(workAdminClientTLS)
	}
	cfg, reason := buildAdminClientTLS(gw, n, secrets[n.Client], secrets[n.Trust])
	r.adminTLS.record(client.ObjectKeyFromObject(gw), adminTLSEntry{key: key, config: cfg, reason: reason})
	return cfg, reason, nil
}

// buildAdminClientTLS is the operator's client TLS configuration for gw from its client
// certificate Secret and its trust Secret, or why there is none.
func buildAdminClientTLS(gw *gwapiv1.Gateway, n certs.Names, clientSecret, trust *corev1.Secret) (*tls.Config, string) {
	pair, err := tls.X509KeyPair(clientSecret.Data[certs.SecretCertKey], clientSecret.Data[certs.SecretKeyKey])
	if err != nil {
		return nil, fmt.Sprintf("admin client certificate Secret %s is not usable yet: %v", n.Client, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(trust.Data[certs.SecretCAKey]) {
		return nil, fmt.Sprintf("admin trust Secret %s has no %s", n.Trust, certs.SecretCAKey)
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: roots,
		ServerName: certs.ServerName(gw.Name, gw.Namespace), MinVersion: tls.VersionTLS13,
	}, ""
}
