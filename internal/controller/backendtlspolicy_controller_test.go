package controller_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/translator"
)

// translations keeps what the last translation of each Gateway loaded (the suite's
// ObserveTranslationInput).
var translations translationLog

// loaded is what one translation's input held of TLS to backends, keyed "namespace/name"
// (ClusterTrustBundles: name).
type loaded struct {
	// policies maps each BackendTLSPolicy to its generation.
	policies map[string]int64
	// configMaps maps each ConfigMap to its ca.crt.
	configMaps map[string]string
	// secrets maps each Secret to its tls.crt.
	secrets map[string]string
	// trustBundles maps each ClusterTrustBundle to its bundle.
	trustBundles map[string]string
	// trustBundlesServed is Input.ClusterTrustBundlesServed.
	trustBundlesServed bool
	// services maps each Service to its label "version".
	services map[string]string
}

type translationLog struct {
	mu   sync.Mutex
	last map[types.NamespacedName]loaded
	// seen, when set, is told of every translation's input as it starts.
	seen func(*translator.Input)
}

// watch has seen told of every translation's input until the test ends.
func (l *translationLog) watch(tb testing.TB, seen func(*translator.Input)) {
	l.mu.Lock()
	l.seen = seen
	l.mu.Unlock()
	tb.Cleanup(func() {
		l.mu.Lock()
		l.seen = nil
		l.mu.Unlock()
	})
}

// observe records what in holds; it only reads it.
func (l *translationLog) observe(in *translator.Input) {
	got := loaded{policies: map[string]int64{}, configMaps: map[string]string{}, secrets: map[string]string{},
		trustBundles: map[string]string{}, trustBundlesServed: in.ClusterTrustBundlesServed, services: map[string]string{}}
	for _, s := range in.Services {
		got.services[s.Namespace+"/"+s.Name] = s.Labels["version"]
	}
	for _, p := range in.BackendTLSPolicies {
		got.policies[p.Namespace+"/"+p.Name] = p.Generation
	}
	for _, cm := range in.ConfigMaps {
		got.configMaps[cm.Namespace+"/"+cm.Name] = cm.Data["ca.crt"]
	}
	for _, s := range in.Secrets {
		got.secrets[s.Namespace+"/"+s.Name] = string(s.Data[corev1.TLSCertKey])
	}
	for _, b := range in.ClusterTrustBundles {
		got.trustBundles[b.Name] = b.Spec.TrustBundle
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen != nil {
		l.seen(in)
	}
	if l.last == nil {
		l.last = map[types.NamespacedName]loaded{}
	}
	l.last[client.ObjectKeyFromObject(in.Gateway)] = got
}

// wait polls until the last translation of gw loaded what check wants.
func (l *translationLog) wait(t *testing.T, gw *gwapiv1.Gateway, check func(loaded) error) {
	t.Helper()
	eventually(t, waitTimeout, func() error {
		l.mu.Lock()
		got, ok := l.last[client.ObjectKeyFromObject(gw)]
		l.mu.Unlock()
		if !ok {
			return fmt.Errorf("Gateway %s was never translated", client.ObjectKeyFromObject(gw))
		}
		return check(got)
	})
}

// loadedValue checks that m holds want at key.
func loadedValue[V comparable](what string, m map[string]V, key string, want V) error {
	if got, ok := m[key]; !ok || got != want {
		return fmt.Errorf("%s %s: got %v (present %v), want %v; loaded %v", what, key, got, ok, want, slices.Sorted(maps.Keys(m)))
	}
	return nil
}

// routeTo creates an HTTPRoute of the fixture's Gateway to port 8080 of Service svc
// and waits until it is accepted.
func routeTo(t *testing.T, f *fixture, svc string) {
	t.Helper()
	route := &gwapiv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "to-" + svc},
		Spec: gwapiv1.HTTPRouteSpec{
			CommonRouteSpec: gwapiv1.CommonRouteSpec{ParentRefs: []gwapiv1.ParentReference{{Name: gwapiv1.ObjectName(f.gateway.Name)}}},
			Rules: []gwapiv1.HTTPRouteRule{{BackendRefs: []gwapiv1.HTTPBackendRef{{BackendRef: gwapiv1.BackendRef{
				BackendObjectReference: gwapiv1.BackendObjectReference{Name: gwapiv1.ObjectName(svc), Port: ptr.To(gwapiv1.PortNumber(8080))},
			}}}}},
		},
	}
	create(t, route)
	waitFor(t, client.ObjectKeyFromObject(route), &gwapiv1.HTTPRoute{}, func(r *gwapiv1.HTTPRoute) error {
		return reasonIs(r.Status.Parents, f.gateway.Name, string(gwapiv1.RouteReasonAccepted))
	})
}

// newPolicy is a BackendTLSPolicy for Service svc, verifying hostname against refs
// (the system's CAs when there are none).
func newPolicy(ns, name, svc, hostname string, refs ...gwapiv1.LocalObjectReference) *gwapiv1.BackendTLSPolicy {
	p := &gwapiv1.BackendTLSPolicy{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gwapiv1.BackendTLSPolicySpec{
			TargetRefs: []gwapiv1.LocalPolicyTargetReferenceWithSectionName{{
				LocalPolicyTargetReference: gwapiv1.LocalPolicyTargetReference{Kind: "Service", Name: gwapiv1.ObjectName(svc)},
			}},
			Validation: gwapiv1.BackendTLSPolicyValidation{Hostname: gwapiv1.PreciseHostname(hostname), CACertificateRefs: refs},
		},
	}
	if len(refs) == 0 {
		p.Spec.Validation.WellKnownCACertificates = ptr.To(gwapiv1.WellKnownCACertificatesSystem)
	}
	return p
}

// newCAPEM returns the PEM of a new self-signed CA certificate.
func newCAPEM(t *testing.T, name string) string {
	t.Helper()
	ca, err := certs.NewCA(name, certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return string(ca.CertPEM)
}

// TestBackendTLSInputsFollowTheirObjects: a Gateway whose route uses a Service loads the
// BackendTLSPolicy of that Service, the CA ConfigMap and ClusterTrustBundle the policy
// names and the client certificate Secret the Gateway names; a change of any of them
// (the ConfigMap's and the bundle's data, the policy's spec, the Secret's data)
// translates the Gateway again with the new content. A policy of a Service no route
// uses is not loaded.
func TestBackendTLSInputsFollowTheirObjects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	create(t, newService(f.ns, "web"))
	create(t, newService(f.ns, "unused"))
	routeTo(t, f, "web")
	ca := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "ca"}, Data: map[string]string{"ca.crt": "first"}}
	create(t, ca)
	bundle := &certificatesv1beta1.ClusterTrustBundle{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(t, "bundle")},
		Spec:       certificatesv1beta1.ClusterTrustBundleSpec{TrustBundle: newCAPEM(t, "first")},
	}
	create(t, bundle)
	policy := newPolicy(f.ns, "web", "web", "web.example.com",
		gwapiv1.LocalObjectReference{Kind: "ConfigMap", Name: "ca"},
		gwapiv1.LocalObjectReference{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: gwapiv1.ObjectName(bundle.Name)})
	create(t, policy)
	create(t, newPolicy(f.ns, "unused", "unused", "unused.example.com"))

	policyKey, caKey := f.ns+"/web", f.ns+"/ca"
	translations.wait(t, f.gateway, func(l loaded) error {
		if !l.trustBundlesServed {
			return fmt.Errorf("ClusterTrustBundlesServed is false: the test API server serves them")
		}
		if len(l.policies) != 1 {
			return fmt.Errorf("policies loaded: %v, want only %s", l.policies, policyKey)
		}
		return firstErr(loadedValue("policy", l.policies, policyKey, 1), loadedValue("ConfigMap", l.configMaps, caKey, "first"),
			loadedValue("ClusterTrustBundle", l.trustBundles, bundle.Name, bundle.Spec.TrustBundle))
	})

	update(t, ca, func(cm *corev1.ConfigMap) { cm.Data["ca.crt"] = "second" })
	translations.wait(t, f.gateway, func(l loaded) error { return loadedValue("ConfigMap", l.configMaps, caKey, "second") })

	rotated := newCAPEM(t, "second")
	update(t, bundle, func(b *certificatesv1beta1.ClusterTrustBundle) { b.Spec.TrustBundle = rotated })
	translations.wait(t, f.gateway, func(l loaded) error {
		return loadedValue("ClusterTrustBundle", l.trustBundles, bundle.Name, rotated)
	})

	update(t, policy, func(p *gwapiv1.BackendTLSPolicy) { p.Spec.Validation.Hostname = "other.example.com" })
	translations.wait(t, f.gateway, func(l loaded) error { return loadedValue("policy", l.policies, policyKey, 2) })

	update(t, f.gateway, func(gw *gwapiv1.Gateway) {
		gw.Spec.TLS = &gwapiv1.GatewayTLSConfig{Backend: &gwapiv1.GatewayBackendTLS{ClientCertificateRef: &gwapiv1.SecretObjectReference{Name: "client"}}}
	})
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "client"}, Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{corev1.TLSCertKey: []byte("first"), corev1.TLSPrivateKeyKey: []byte("key")},
	}
	create(t, secret)
	secretKey := f.ns + "/client"
	translations.wait(t, f.gateway, func(l loaded) error { return loadedValue("Secret", l.secrets, secretKey, "first") })
	update(t, secret, func(s *corev1.Secret) { s.Data[corev1.TLSCertKey] = []byte("second") })
	translations.wait(t, f.gateway, func(l loaded) error { return loadedValue("Secret", l.secrets, secretKey, "second") })
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// policyAccepted is an Accepted=True condition of generation gen.
func policyAccepted(gen int64) []metav1.Condition {
	return []metav1.Condition{{Type: string(gwapiv1.PolicyConditionAccepted), Status: metav1.ConditionTrue,
		Reason: string(gwapiv1.PolicyReasonAccepted), ObservedGeneration: gen, LastTransitionTime: metav1.Now()}}
}

// gatewayRef is an ancestorRef to the Gateway ns/name.
func gatewayRef(ns, name string) gwapiv1.ParentReference {
	return gwapiv1.ParentReference{Group: ptr.To(gwapiv1.Group(gwapiv1.GroupName)), Kind: ptr.To(gwapiv1.Kind("Gateway")),
		Namespace: ptr.To(gwapiv1.Namespace(ns)), Name: gwapiv1.ObjectName(name)}
}

// seedAncestors appends entries to the policy's status and returns its ancestors as stored.
func seedAncestors(t *testing.T, key client.ObjectKey, entries func(gen int64) []gwapiv1.PolicyAncestorStatus) *gwapiv1.BackendTLSPolicy {
	t.Helper()
	var p gwapiv1.BackendTLSPolicy
	eventually(t, waitTimeout, func() error {
		if err := k8s.Get(ctxFor(t), key, &p); err != nil {
			return err
		}
		p.Status.Ancestors = append(p.Status.Ancestors, entries(p.Generation)...)
		return k8s.Status().Update(ctxFor(t), &p)
	})
	return &p
}

// TestBackendTLSPolicyStatusKeepsOthersEntries: the Gateway's ancestor entry is written
// next to another controller's entry and another Gateway's, which stay exactly as they
// were; writing the same entry again writes nothing; an entry no longer wanted is
// removed. A policy's generation bump reconciles the Gateways it carries entries for:
// entries of Gateways that are gone are removed, and the other controller's entry
// survives (conformance's backendtlspolicy-preserve-foreign-status).
func TestBackendTLSPolicyStatusKeepsOthersEntries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})
	create(t, newService(f.ns, "web"))
	routeTo(t, f, "web")
	policy := newPolicy(f.ns, "web", "web", "web.example.com")
	create(t, policy)
	key := client.ObjectKeyFromObject(policy)

	// The fixture Gateway's own entry, which its reconciles write as the translation
	// decides, may come first.
	fixtureOwn := func(a gwapiv1.PolicyAncestorStatus) bool {
		return a.ControllerName == controllerName && string(a.AncestorRef.Name) == f.gateway.Name
	}
	seeded := slices.DeleteFunc(seedAncestors(t, key, func(gen int64) []gwapiv1.PolicyAncestorStatus {
		return []gwapiv1.PolicyAncestorStatus{
			{AncestorRef: gatewayRef(f.ns, f.gateway.Name), ControllerName: "example.com/other", Conditions: policyAccepted(gen)},
			{AncestorRef: gatewayRef(f.ns, "gone"), ControllerName: controllerName, Conditions: policyAccepted(gen)},
		}
	}).Status.Ancestors, fixtureOwn) // as stored: times in seconds

	direct := &gwapiv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "direct"}}
	want := gwapiv1.PolicyAncestorStatus{AncestorRef: gatewayRef(f.ns, "direct"), ControllerName: controllerName, Conditions: policyAccepted(1)}
	write := func(statuses ...translator.PolicyStatus) {
		t.Helper()
		eventually(t, waitTimeout, func() error {
			return controller.WritePolicyStatuses(ctxFor(t), manager, controllerName, direct, statuses)
		})
	}
	// ancestorsAre checks the entries, but for the fixture Gateway's own, which its
	// reconciles write as the translation decides.
	ancestorsAre := func(want ...gwapiv1.PolicyAncestorStatus) func(*gwapiv1.BackendTLSPolicy) error {
		return func(p *gwapiv1.BackendTLSPolicy) error {
			others := slices.DeleteFunc(slices.Clone(p.Status.Ancestors), fixtureOwn)
			if len(others) != len(want) {
				return fmt.Errorf("ancestors %+v, want %+v", others, want)
			}
			for i := range want {
				got := others[i]
				if !equality.Semantic.DeepEqual(got.AncestorRef, want[i].AncestorRef) || got.ControllerName != want[i].ControllerName ||
					len(got.Conditions) != len(want[i].Conditions) || got.Conditions[0].Reason != want[i].Conditions[0].Reason {
					return fmt.Errorf("ancestor %d is %+v, want %+v", i, got, want[i])
				}
			}
			return nil
		}
	}
	foreignKept := func(p *gwapiv1.BackendTLSPolicy) error {
		if others := slices.DeleteFunc(slices.Clone(p.Status.Ancestors), fixtureOwn); len(others) == 0 ||
			!equality.Semantic.DeepEqual(others[0], seeded[0]) {
			return fmt.Errorf("the other controller's entry changed: %+v, want %+v", p.Status.Ancestors, seeded[0])
		}
		return nil
	}

	ours := translator.PolicyStatus{Kind: "BackendTLSPolicy", Namespace: f.ns, Name: policy.Name, Ancestor: want}
	write(ours)
	fixtureWritten := func(p *gwapiv1.BackendTLSPolicy) error {
		if !slices.ContainsFunc(p.Status.Ancestors, fixtureOwn) {
			return fmt.Errorf("no entry of Gateway %s yet: %+v", f.gateway.Name, p.Status.Ancestors)
		}
		return nil
	}
	written := waitFor(t, key, &gwapiv1.BackendTLSPolicy{}, func(p *gwapiv1.BackendTLSPolicy) error {
		return firstErr(ancestorsAre(seeded[0], seeded[1], want)(p), foreignKept(p), fixtureWritten(p))
	})
	if i := slices.IndexFunc(written.Status.Ancestors, func(a gwapiv1.PolicyAncestorStatus) bool { return a.AncestorRef.Name == "gone" }); i < 0 ||
		!equality.Semantic.DeepEqual(written.Status.Ancestors[i], seeded[1]) {
		t.Errorf("the other Gateway's entry changed: %+v, want %+v", written.Status.Ancestors, seeded[1])
	}
	// Stored times have a precision of seconds: a second write that set them anew would show.
	time.Sleep(1100 * time.Millisecond)
	write(ours)
	consistently(t, time.Second, func() error {
		var p gwapiv1.BackendTLSPolicy
		if err := k8s.Get(ctxFor(t), key, &p); err != nil {
			return err
		}
		if p.ResourceVersion != written.ResourceVersion {
			return fmt.Errorf("the policy was written again: resourceVersion %s, was %s", p.ResourceVersion, written.ResourceVersion)
		}
		return nil
	})
	write()
	waitFor(t, key, &gwapiv1.BackendTLSPolicy{}, func(p *gwapiv1.BackendTLSPolicy) error {
		return firstErr(ancestorsAre(seeded[0], seeded[1])(p), foreignKept(p))
	})

	write(ours)
	waitFor(t, key, &gwapiv1.BackendTLSPolicy{}, ancestorsAre(seeded[0], seeded[1], want))
	update(t, policy, func(p *gwapiv1.BackendTLSPolicy) { p.Spec.Validation.Hostname = "second.example.com" })
	waitFor(t, key, &gwapiv1.BackendTLSPolicy{}, func(p *gwapiv1.BackendTLSPolicy) error {
		for _, a := range p.Status.Ancestors {
			if a.ControllerName == controllerName && (a.AncestorRef.Name == "gone" || a.AncestorRef.Name == "direct") {
				return fmt.Errorf("the entry for the missing Gateway %s is still there: %+v", a.AncestorRef.Name, p.Status.Ancestors)
			}
		}
		return foreignKept(p)
	})
}

// TestBackendTLSPolicyStatusFull: a policy whose status lists 16 ancestors already (the
// spec's maximum) gets no entry for one more Gateway; the Gateway gets a Warning Event
// naming the policy instead, and the list is left as it was.
func TestBackendTLSPolicyStatusFull(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	policy := newPolicy(ns, "crowded", "web", "web.example.com")
	create(t, policy)
	key := client.ObjectKeyFromObject(policy)
	full := seedAncestors(t, key, func(gen int64) []gwapiv1.PolicyAncestorStatus {
		var out []gwapiv1.PolicyAncestorStatus
		for i := range 16 {
			out = append(out, gwapiv1.PolicyAncestorStatus{AncestorRef: gatewayRef(ns, fmt.Sprintf("gw-%d", i)),
				ControllerName: "example.com/other", Conditions: policyAccepted(gen)})
		}
		return out
	})

	gw := newGateway(ns, "late", "no-class")
	create(t, gw)
	ours := translator.PolicyStatus{Kind: "BackendTLSPolicy", Namespace: ns, Name: policy.Name, Ancestor: gwapiv1.PolicyAncestorStatus{
		AncestorRef: gatewayRef(ns, gw.Name), ControllerName: controllerName, Conditions: policyAccepted(1),
	}}
	eventually(t, waitTimeout, func() error {
		return controller.WritePolicyStatuses(ctxFor(t), manager, controllerName, gw, []translator.PolicyStatus{ours})
	})
	eventually(t, waitTimeout, func() error {
		var events eventsv1.EventList
		if err := k8s.List(ctxFor(t), &events, client.InNamespace(ns)); err != nil {
			return err
		}
		for _, e := range events.Items {
			if e.Reason == "PolicyAncestorsFull" && e.Type == corev1.EventTypeWarning && e.Regarding.Name == gw.Name &&
				strings.Contains(e.Note, "BackendTLSPolicy "+key.String()+" lists 16 ancestors") {
				return nil
			}
		}
		return fmt.Errorf("no PolicyAncestorsFull Event for Gateway %s among %d events", gw.Name, len(events.Items))
	})
	var p gwapiv1.BackendTLSPolicy
	if err := k8s.Get(ctxFor(t), key, &p); err != nil {
		t.Fatal(err)
	}
	if p.ResourceVersion != full.ResourceVersion || !equality.Semantic.DeepEqual(p.Status.Ancestors, full.Status.Ancestors) {
		t.Errorf("the full list changed: %+v", p.Status.Ancestors)
	}
}

// TestFrontendTrustBundleFollowsItsObject: a ClusterTrustBundle the Gateway's frontend
// client-certificate validation names is loaded, and a change of its bundle translates
// the Gateway again with the new content.
func TestFrontendTrustBundleFollowsItsObject(t *testing.T) {
	t.Parallel()
	bundle := &certificatesv1beta1.ClusterTrustBundle{
		ObjectMeta: metav1.ObjectMeta{Name: uniqueName(t, "frontend")},
		Spec:       certificatesv1beta1.ClusterTrustBundleSpec{TrustBundle: newCAPEM(t, "first")},
	}
	create(t, bundle)
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, func(gw *gwapiv1.Gateway) {
		gw.Spec.TLS = &gwapiv1.GatewayTLSConfig{Frontend: &gwapiv1.FrontendTLSConfig{Default: gwapiv1.TLSConfig{
			Validation: &gwapiv1.FrontendTLSValidation{CACertificateRefs: []gwapiv1.ObjectReference{{
				Group: "certificates.k8s.io", Kind: "ClusterTrustBundle", Name: gwapiv1.ObjectName(bundle.Name),
			}}},
		}}}
	})
	translations.wait(t, f.gateway, func(l loaded) error {
		return loadedValue("ClusterTrustBundle", l.trustBundles, bundle.Name, bundle.Spec.TrustBundle)
	})

	rotated := newCAPEM(t, "second")
	update(t, bundle, func(b *certificatesv1beta1.ClusterTrustBundle) { b.Spec.TrustBundle = rotated })
	translations.wait(t, f.gateway, func(l loaded) error {
		return loadedValue("ClusterTrustBundle", l.trustBundles, bundle.Name, rotated)
	})
}
