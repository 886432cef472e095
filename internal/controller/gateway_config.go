package controller

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
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
	push        pusher.Result
	// blocked says why nothing could be pushed (no client certificate yet, a config
	// Caddy could not be given); empty when a push was attempted.
	blocked string
}

// configure translates the Gateway's routes into a Caddy configuration and pushes it to
// every Caddy pod that can take it.
func (r *GatewayReconciler) configure(ctx context.Context, gw *gwapiv1.Gateway, spec *v1alpha1.CaddyProxyConfigSpec) (configOutcome, error) {
	in, err := r.translationInput(ctx, gw)
	if err != nil {
		return configOutcome{}, err
	}
	out := configOutcome{translation: translator.Translate(in)}
	cfg, err := emit.Emit(out.translation.IR, params.EmitOptions(spec.Caddy))
	if err != nil {
		out.blocked = fmt.Sprintf("the configuration cannot be rendered: %v", err)
		return out, nil
	}
	configSize.Observe(float64(len(cfg.JSON)))
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
		Config: pusher.Config{JSON: cfg.JSON, Hash: cfg.Hash}, TLS: tlsCfg, Port: port, Tuning: pushTuning(spec),
	})
	return out, r.recordAcknowledged(ctx, gw.Namespace, out.push.Acknowledged, cfg.Hash)
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

// AnnotationConfiguration records on a Caddy pod which configuration its current caddy
// container runs: "<caddy restart count>/<config hash>". It survives operator restarts,
// so a new operator does not push unchanged configurations again.
const AnnotationConfiguration = "caddygateway.io/configuration"

// recordAcknowledged writes AnnotationConfiguration on the pods that took hash.
func (r *GatewayReconciler) recordAcknowledged(ctx context.Context, ns string, acked []pusher.Target, hash string) error {
	for _, t := range acked {
		restarts, _, _ := strings.Cut(t.Key[strings.LastIndex(t.Key, "/")+1:], "/")
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, AnnotationConfiguration, restarts+"/"+hash)
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: t.Name}}
		if err := r.Patch(ctx, pod, client.RawPatch(types.MergePatchType, []byte(patch))); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("recording the configuration of pod %s/%s: %w", ns, t.Name, err)
		}
	}
	return nil
}

// pushTargets lists the Gateway's Caddy pods that are running and whose admin-proxy is
// ready. A pod's key changes when its caddy container restarts, so a restarted Caddy is
// configured again.
func (r *GatewayReconciler) pushTargets(ctx context.Context, gw *gwapiv1.Gateway) ([]pusher.Target, error) {
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(gw.Namespace), client.MatchingLabels(infra.SelectorLabels(gw.Name))); err != nil {
		return nil, fmt.Errorf("listing the Caddy pods of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	var targets []pusher.Target
	for _, p := range pods.Items {
		if !p.DeletionTimestamp.IsZero() || p.Status.PodIP == "" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		var proxyReady bool
		var restarts int32 = -1
		for _, cs := range p.Status.ContainerStatuses {
			switch cs.Name {
			case infra.AdminProxyContainer:
				proxyReady = cs.Ready
			case infra.CaddyContainer:
				if cs.State.Running != nil {
					restarts = cs.RestartCount
				}
			}
		}
		if proxyReady && restarts >= 0 {
			targets = append(targets, pusher.Target{
				Key: string(p.UID) + "/" + strconv.Itoa(int(restarts)), Name: p.Name, IP: p.Status.PodIP,
				Acked: recordedHash(p.Annotations[AnnotationConfiguration], restarts),
			})
		}
	}
	return targets, nil
}

// recordedHash returns the hash an AnnotationConfiguration value records for the caddy
// container's current run, or "" when it records an earlier run.
func recordedHash(value string, restarts int32) string {
	run, hash, ok := strings.Cut(value, "/")
	if !ok || run != strconv.Itoa(int(restarts)) {
		return ""
	}
	return hash
}

// adminClientTLS builds the operator's client TLS configuration for a Gateway from its
// client certificate Secret and its trust bundle, both in the operator's namespace. A
// non-empty reason says why it is not available yet.
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
	s := secrets[n.Client]
	pair, err := tls.X509KeyPair(s.Data[certs.SecretCertKey], s.Data[certs.SecretKeyKey])
	if err != nil {
		return nil, fmt.Sprintf("admin client certificate Secret %s is not usable yet: %v", n.Client, err), nil
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(secrets[n.Trust].Data[certs.SecretCAKey]) {
		return nil, fmt.Sprintf("admin trust Secret %s has no %s", n.Trust, certs.SecretCAKey), nil
	}
	return &tls.Config{
		Certificates: []tls.Certificate{pair}, RootCAs: roots,
		ServerName: certs.ServerName(gw.Name, gw.Namespace), MinVersion: tls.VersionTLS13,
	}, "", nil
}
