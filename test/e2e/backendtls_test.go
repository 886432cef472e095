//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// btGateway serves btHost over HTTP on listenerPort, routed to port 443 of the TLS
	// backend btBackend, whose certificate is for btServerName.
	btGateway    = "backend-tls"
	btHost       = "bt.example.com"
	btBackend    = "secure-echo"
	btServerName = "secure-echo.backend.example"
	btPolicy     = "secure-echo"
	// btCAMap is the ConfigMap holding the backend's CA under "ca.crt"; btSecret holds
	// the backend's certificate and, under btClientCAKey, the CA of the Gateway's client
	// certificate, which btClientSecret holds.
	btCAMap        = "secure-echo-ca"
	btSecret       = "secure-echo-tls"
	btClientSecret = "gateway-client"
	btClientCAKey  = "client-ca.crt"
	// btFastPoll is how often a change is probed while its propagation is timed.
	btFastPoll = 10 * time.Millisecond
	// btSteadyRequests requests btSteadyInterval apart show that a refused backend stays
	// refused.
	btSteadyRequests, btSteadyInterval = 20, 100 * time.Millisecond
)

// TestBackendTLSPolicy: an HTTPRoute to a Service port serving HTTPS with a certificate
// from a private CA, and a BackendTLSPolicy naming that CA (a ConfigMap) and the
// certificate's name. Through the Gateway's Service: the backend is reached over TLS with
// that server name and the policy has our Accepted and ResolvedRefs ancestor entry; a
// wrong hostname makes requests fail (5xx, never plaintext) and restoring it brings them
// back; a backend rolled to a certificate from a new CA is refused until the ConfigMap
// holds the new CA, then reached; the Gateway's backend client certificate is presented
// to the backend; the policy's CA moved to a ClusterTrustBundle is what verifies, and the
// bundle's change is followed. Each change's propagation (edit → traffic follows) is logged.
func TestBackendTLSPolicy(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-bt", 16)

	ca1, be1 := issue(t, "backend-ca-1", btServerName)
	clientCA, err := certs.NewCA("gateway-client-ca", certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	clientCert, err := clientCA.IssueClientFor("caddy-gateway", nil, certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}

	objs := []client.Object{
		backendSecret(ns, be1[0], clientCA), caConfigMap(ns, ca1), tlsSecret(ns, btClientSecret, clientCert),
		onePodParams(ns, btGateway), gatewayClass(class, ns, btGateway), httpGateway(ns, btGateway, class),
		httpRoute(ns, "to-tls", ns, btGateway, "", []string{btHost}, toBackends(tlsBackendRef(btBackend))),
		backendTLSPolicy(ns, btServerName),
	}
	objs = append(objs, clientVerifyingEcho(ns)...)
	createAll(ctx, t, c, objs...)

	addr := joinPort(serviceIP(ctx, t, c, ns, btGateway), listenerPort)
	first := expectBackendTLS(ctx, t, addr, "the backend reached over TLS")
	if len(first.TLS.PeerCertificates) != 0 {
		t.Fatalf("the backend saw a client certificate before the Gateway named one: %d", len(first.TLS.PeerCertificates))
	}
	policyAncestorAccepted(ctx, t, c, ns)

	wrong := timeEdit(ctx, t, c, &gwapiv1.BackendTLSPolicy{}, ns, btPolicy, func(p *gwapiv1.BackendTLSPolicy) {
		p.Spec.Validation.Hostname = "wrong.backend.example"
	}, addr, "requests fail with the wrong hostname", refused)
	steadilyRefused(ctx, t, addr)
	restored := timeEdit(ctx, t, c, &gwapiv1.BackendTLSPolicy{}, ns, btPolicy, func(p *gwapiv1.BackendTLSPolicy) {
		p.Spec.Validation.Hostname = btServerName
	}, addr, "requests succeed with the hostname restored", verified)

	policyAncestorAccepted(ctx, t, c, ns)

	newPod := rollBackendToNewCA(ctx, t, c, ns, addr, clientCA)
	rotated := timeEdit(ctx, t, c, &corev1.ConfigMap{}, ns, btCAMap, func(m *corev1.ConfigMap) {
		m.Data["ca.crt"] = string(newPod.ca.CertPEM)
	}, addr, "the rolled backend reached with the new CA", verifiedAnd(answeredBy(newPod.name)))
	policyAncestorAccepted(ctx, t, c, ns)

	presented := timeEdit(ctx, t, c, &gwapiv1.Gateway{}, ns, btGateway, func(g *gwapiv1.Gateway) {
		g.Spec.TLS = &gwapiv1.GatewayTLSConfig{Backend: &gwapiv1.GatewayBackendTLS{
			ClientCertificateRef: &gwapiv1.SecretObjectReference{Name: btClientSecret},
		}}
	}, addr, "the backend sees the Gateway's client certificate", verifiedAnd(presentedCert(clientCert.Cert.Raw)))
	gatewayResolvedRefs(ctx, t, c, ns)

	bundled, rebundled := trustBundleTurns(ctx, t, c, ns, addr, ca1, newPod)

	t.Logf("propagation (edit → traffic follows): wrong hostname %v, hostname restored %v, CA rotated %v, client certificate %v, "+
		"policy moved to a ClusterTrustBundle of the old CA %v, bundle given the new CA %v",
		wrong, restored, rotated, presented, bundled, rebundled)
}

// trustBundleTurns moves btPolicy's CA from btCAMap to a ClusterTrustBundle holding the
// old CA, old: requests fail, so the bundle is what verifies; then gives the bundle the
// CA of the rolled backend: requests succeed again. It returns both propagation times.
func trustBundleTurns(ctx context.Context, t *testing.T, c client.Client, ns, addr string, old *certs.KeyPair, rolled rolledBackend) (time.Duration, time.Duration) {
	t.Helper()
	bundle := &certificatesv1beta1.ClusterTrustBundle{
		ObjectMeta: metav1.ObjectMeta{Name: ns + "-backend-ca"},
		Spec:       certificatesv1beta1.ClusterTrustBundleSpec{TrustBundle: string(old.CertPEM)},
	}
	createAll(ctx, t, c, bundle)
	moved := timeEdit(ctx, t, c, &gwapiv1.BackendTLSPolicy{}, ns, btPolicy, func(p *gwapiv1.BackendTLSPolicy) {
		p.Spec.Validation.CACertificateRefs = []gwapiv1.LocalObjectReference{{
			Group: certificatesv1beta1.GroupName, Kind: "ClusterTrustBundle", Name: gwapiv1.ObjectName(bundle.Name),
		}}
	}, addr, "requests fail with the policy's CA from a ClusterTrustBundle of the old CA", refused)
	steadilyRefused(ctx, t, addr)
	policyAncestorAccepted(ctx, t, c, ns)
	rebundled := timeEdit(ctx, t, c, &certificatesv1beta1.ClusterTrustBundle{}, "", bundle.Name, func(b *certificatesv1beta1.ClusterTrustBundle) {
		b.Spec.TrustBundle = string(rolled.ca.CertPEM)
	}, addr, "the rolled backend reached with the ClusterTrustBundle's new CA", verifiedAnd(answeredBy(rolled.name)))
	return moved, rebundled
}

// backendSecret is the kubernetes.io/tls Secret of the backend: its certificate kp and
// the CA its server verifies client certificates with.
func backendSecret(ns string, kp, clientCA *certs.KeyPair) *corev1.Secret {
	s := tlsSecret(ns, btSecret, kp)
	s.Data[btClientCAKey] = clientCA.CertPEM
	return s
}

// caConfigMap is the ConfigMap btCAMap holding ca under "ca.crt".
func caConfigMap(ns string, ca *certs.KeyPair) *corev1.ConfigMap {
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: btCAMap},
		Data:       map[string]string{"ca.crt": string(ca.CertPEM)},
	}
}

// clientVerifyingEcho is utils.TLSEchoBackend btBackend, whose server also verifies
// the client certificates it is given against the CA under btClientCAKey and reports
// them.
func clientVerifyingEcho(ns string) []client.Object {
	objs := utils.TLSEchoBackend(ns, btBackend, btSecret)
	serve := &objs[0].(*appsv1.Deployment).Spec.Template.Spec.Containers[0]
	serve.Env = append(serve.Env, corev1.EnvVar{Name: "TLS_CLIENT_CACERTS", Value: "/etc/tls/" + btClientCAKey})
	return objs
}

// tlsBackendRef names the HTTPS port, 443, of Service name.
func tlsBackendRef(name string) gwapiv1.HTTPBackendRef {
	return gwapiv1.HTTPBackendRef{BackendRef: gwapiv1.BackendRef{BackendObjectReference: gwapiv1.BackendObjectReference{
		Name: gwapiv1.ObjectName(name), Port: ptr.To[gwapiv1.PortNumber](443),
	}}}
}

// backendTLSPolicy is btPolicy: btBackend's connections verified against the CA of
// btCAMap, for hostname.
func backendTLSPolicy(ns, hostname string) *gwapiv1.BackendTLSPolicy {
	return &gwapiv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: btPolicy},
		Spec: gwapiv1.BackendTLSPolicySpec{
			TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{
				Group: "", Kind: "Service", Name: btBackend,
			}}},
			Validation: gwapiv1.BackendTLSPolicyValidation{
				CACertificateRefs: []gwapiv1.LocalObjectReference{{Group: "", Kind: "ConfigMap", Name: btCAMap}},
				Hostname:          gwapiv1.PreciseHostname(hostname),
			},
		},
	}
}

// tlsEcho is the part of echo-basic's answer this test reads.
type tlsEcho struct {
	Pod string `json:"pod"`
	TLS *struct {
		ServerName       string   `json:"serverName"`
		PeerCertificates []string `json:"peerCertificates"`
	} `json:"tls"`
}

// observe sends one request for btHost to addr and returns its status code and, for a
// 200, the echo's answer. A 200 that is not the echo's answer over TLS with
// btServerName is an error: the backend was reached some other way.
func observe(ctx context.Context, addr string) (tlsEcho, int, error) {
	r, err := send(ctx, plainClient, "http", addr, btHost, "/bt")
	if err != nil {
		return tlsEcho{}, 0, err
	}
	var e tlsEcho
	if r.code != 200 {
		return e, r.code, nil
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		return e, r.code, fmt.Errorf("200 that is not the echo's answer: %q", r.body)
	}
	if e.TLS == nil || e.TLS.ServerName != btServerName {
		return e, r.code, fmt.Errorf("%w: the backend was reached other than over TLS with server name %s: %s", errUnsafe, btServerName, r.body)
	}
	return e, r.code, nil
}

// errUnsafe marks an answer that must never happen, whatever the moment: the test stops.
var errUnsafe = errors.New("unsafe answer")

// verified accepts the echo's answer over TLS with btServerName.
func verified(_ tlsEcho, code int) error {
	if code != 200 {
		return fmt.Errorf("status %d", code)
	}
	return nil
}

// refused accepts a gateway error: the backend's TLS was refused.
func refused(_ tlsEcho, code int) error {
	if code < 500 {
		return fmt.Errorf("status %d, want 5xx", code)
	}
	return nil
}

// expectBackendTLS polls until a request is answered by the backend over TLS with
// btServerName and returns the answer.
func expectBackendTLS(ctx context.Context, t *testing.T, addr, what string) tlsEcho {
	t.Helper()
	var got tlsEcho
	poll(ctx, t, what, func(ctx context.Context) error {
		e, code, err := observe(ctx, addr)
		if err != nil {
			return err
		}
		got = e
		return verified(e, code)
	})
	return got
}

// timeEdit edits the object ns/name (obj is an empty one of its kind) with mutate and
// returns how long it takes until a request's outcome satisfies want; every answer in
// between must be safe.
func timeEdit[T client.Object](ctx context.Context, t *testing.T, c client.Client, obj T, ns, name string, mutate func(T), addr, what string, want func(tlsEcho, int) error) time.Duration {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
			return err
		}
		mutate(obj)
		return c.Update(ctx, obj)
	})
	if err != nil {
		t.Fatalf("editing %T %s/%s: %v", obj, ns, name, err)
	}
	start := time.Now()
	var last error
	err = wait.PollUntilContextTimeout(ctx, btFastPoll, pollTimeout, true, func(ctx context.Context) (bool, error) {
		e, code, err := observe(ctx, addr)
		if err != nil {
			last = err
			return false, unsafe(err)
		}
		last = want(e, code)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v (last: %v)", what, err, last)
	}
	return time.Since(start)
}

// unsafe is err when it marks an unsafe answer, which ends a poll; nil otherwise.
func unsafe(err error) error {
	if errors.Is(err, errUnsafe) {
		return err
	}
	return nil
}

// steadilyRefused fails unless btSteadyRequests requests in a row all fail with 5xx.
func steadilyRefused(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	for i := range btSteadyRequests {
		e, code, err := observe(ctx, addr)
		if err == nil {
			err = refused(e, code)
		}
		if err != nil {
			t.Fatalf("request %d of %d with the wrong hostname: %v", i+1, btSteadyRequests, err)
		}
		time.Sleep(btSteadyInterval)
	}
}

// policyAncestorAccepted waits until btPolicy's status has our entry for btGateway with
// Accepted and ResolvedRefs True.
func policyAncestorAccepted(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	poll(ctx, t, "BackendTLSPolicy "+btPolicy+" Accepted and ResolvedRefs for "+btGateway, func(ctx context.Context) error {
		var p gwapiv1.BackendTLSPolicy
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: btPolicy}, &p); err != nil {
			return err
		}
		for _, a := range p.Status.Ancestors {
			ref := a.AncestorRef
			if string(a.ControllerName) != controllerName || string(ref.Name) != btGateway ||
				ref.Namespace == nil || string(*ref.Namespace) != ns || ref.Kind == nil || *ref.Kind != "Gateway" {
				continue
			}
			for typ, reason := range map[string]string{
				string(gwapiv1.PolicyConditionAccepted):               string(gwapiv1.PolicyReasonAccepted),
				string(gwapiv1.BackendTLSPolicyConditionResolvedRefs): string(gwapiv1.BackendTLSPolicyReasonResolvedRefs),
			} {
				cond := meta.FindStatusCondition(a.Conditions, typ)
				if cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != reason || cond.ObservedGeneration != p.Generation {
					return fmt.Errorf("%s: %+v", typ, cond)
				}
			}
			return nil
		}
		return fmt.Errorf("no ancestor entry of ours for %s: %+v", btGateway, p.Status.Ancestors)
	})
}

// rolledBackend is the backend pod serving a certificate from a new CA.
type rolledBackend struct {
	name string
	ca   *certs.KeyPair
}

// rollBackendToNewCA gives the backend a certificate for btServerName from a new CA and
// rolls it; once the new pod alone serves, requests must fail: the ConfigMap still holds
// the old CA.
func rollBackendToNewCA(ctx context.Context, t *testing.T, c client.Client, ns, addr string, clientCA *certs.KeyPair) rolledBackend {
	t.Helper()
	ca2, be2 := issue(t, "backend-ca-2", btServerName)
	sel := map[string]string{"app": btBackend}
	before := podIdentities(ctx, t, c, ns, sel)
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var s corev1.Secret
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: btSecret}, &s); err != nil {
			return err
		}
		s.Data = backendSecret(ns, be2[0], clientCA).Data
		return c.Update(ctx, &s)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var d appsv1.Deployment
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: btBackend}, &d); err != nil {
			return err
		}
		d.Spec.Template.Annotations = map[string]string{"example.com/certificate": "2"}
		return c.Update(ctx, &d)
	})
	if err != nil {
		t.Fatal(err)
	}
	var name string
	poll(ctx, t, "the backend rolled to one new ready pod", func(ctx context.Context) error {
		var pods corev1.PodList
		if err := c.List(ctx, &pods, client.InNamespace(ns), client.MatchingLabels(sel)); err != nil {
			return err
		}
		if len(pods.Items) != 1 || pods.Items[0].Annotations["example.com/certificate"] != "2" || !podReady(&pods.Items[0]) {
			return fmt.Errorf("%d pods (before: %v)", len(pods.Items), before)
		}
		name = pods.Items[0].Name
		return nil
	})
	poll(ctx, t, "the rolled backend refused while the ConfigMap holds the old CA", func(ctx context.Context) error {
		e, code, err := observe(ctx, addr)
		if err != nil {
			if unsafe(err) != nil {
				t.Fatal(err)
			}
			return err
		}
		return refused(e, code)
	})
	return rolledBackend{name: name, ca: ca2}
}

// verifiedAnd accepts the echo's answer over TLS with btServerName that check accepts.
func verifiedAnd(check func(tlsEcho) error) func(tlsEcho, int) error {
	return func(e tlsEcho, code int) error {
		if err := verified(e, code); err != nil {
			return err
		}
		return check(e)
	}
}

// answeredBy accepts an answer of the pod named pod.
func answeredBy(pod string) func(tlsEcho) error {
	return func(e tlsEcho) error {
		if e.Pod != pod {
			return fmt.Errorf("answered by pod %s, want %s", e.Pod, pod)
		}
		return nil
	}
}

// presentedCert accepts an answer whose backend was presented exactly the certificate der.
func presentedCert(der []byte) func(tlsEcho) error {
	return func(e tlsEcho) error {
		if len(e.TLS.PeerCertificates) != 1 {
			return fmt.Errorf("the backend saw %d client certificates", len(e.TLS.PeerCertificates))
		}
		b, _ := pem.Decode([]byte(e.TLS.PeerCertificates[0]))
		if b == nil || !bytes.Equal(b.Bytes, der) {
			return fmt.Errorf("the backend saw another client certificate: %q", e.TLS.PeerCertificates[0])
		}
		return nil
	}
}

// gatewayResolvedRefs waits until btGateway's ResolvedRefs condition is True: its
// backend client certificate resolved.
func gatewayResolvedRefs(ctx context.Context, t *testing.T, c client.Client, ns string) {
	t.Helper()
	poll(ctx, t, "Gateway "+btGateway+" ResolvedRefs True", func(ctx context.Context) error {
		cond, err := gatewayCondition(ctx, c, ns, btGateway, string(gwapiv1.GatewayConditionResolvedRefs))
		if err != nil {
			return err
		}
		if cond == nil || cond.Status != metav1.ConditionTrue || cond.Reason != string(gwapiv1.GatewayReasonResolvedRefs) {
			return fmt.Errorf("ResolvedRefs: %+v", cond)
		}
		return nil
	})
}
