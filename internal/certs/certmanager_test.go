package certs

import (
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/golden"
)

// certManagerCase is the shape of testdata/*.in.yaml.
type certManagerCase struct {
	Gateway struct {
		Name      string    `json:"name"`
		Namespace string    `json:"namespace"`
		UID       types.UID `json:"uid"`
	} `json:"gateway"`
	Labels      map[string]string      `json:"labels"`
	Annotations map[string]string      `json:"annotations"`
	TLS         *v1alpha1.AdminTLSSpec `json:"tls"`
}

func TestRenderCertManagerGolden(t *testing.T) {
	const dir = "testdata"
	for _, name := range golden.Cases(t, dir) {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, name+".in.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var c certManagerCase
			if err := yaml.UnmarshalStrict(raw, &c); err != nil {
				t.Fatal(err)
			}
			in := CertManagerInput{
				Gateway: c.Gateway.Name, Namespace: c.Gateway.Namespace,
				Labels: c.Labels, Annotations: c.Annotations, TLS: c.TLS,
			}
			if c.Gateway.UID != "" {
				in.Owner = &metav1.OwnerReference{
					APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway",
					Name: c.Gateway.Name, UID: c.Gateway.UID, BlockOwnerDeletion: ptr.To(true),
				}
			}
			var objs []any
			for _, u := range RenderCertManager(in) {
				objs = append(objs, u.Object)
			}
			got, err := golden.YAML(objs...)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, name+".out.yaml"), got)
		})
	}
	golden.Sweep(t, dir)
}

func TestNamesForLongGateway(t *testing.T) {
	long := make([]byte, 253)
	for i := range long {
		long[i] = 'g'
	}
	n := NamesFor(string(long))
	for _, s := range []string{n.SelfSignedIssuer, n.CA, n.Server, n.Client} {
		if len(s) > 253 {
			t.Errorf("name %q is %d characters", s, len(s))
		}
	}
	if n.Server == n.Client || n.CA == n.Server {
		t.Errorf("names collide: %+v", n)
	}
}

// TestRenderCertManagerSurvivesGatewayShim renders the objects of a Gateway that
// cert-manager's gateway-shim also serves (annotated for an issuer, one HTTPS listener
// naming the Secret the shim issues) and applies the shim's clean-up rule to them: none
// may be deleted, and each must still be owned by the Gateway so that it goes with it.
func TestRenderCertManagerSurvivesGatewayShim(t *testing.T) {
	gw := &gwapiv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "apps", UID: "6f1c2b4e-0000-4000-8000-000000000001",
			Annotations: map[string]string{"cert-manager.io/cluster-issuer": "letsencrypt"}},
		Spec: gwapiv1.GatewaySpec{Listeners: []gwapiv1.Listener{{
			Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: 443,
			TLS: &gwapiv1.ListenerTLSConfig{CertificateRefs: []gwapiv1.SecretObjectReference{{Name: "web-tls"}}},
		}}},
	}
	tests := map[string]*v1alpha1.AdminTLSSpec{
		"default chain": nil,
		"issuerRef":     {IssuerRef: &v1alpha1.IssuerReference{Kind: KindClusterIssuer, Name: "corporate-ca"}},
	}
	for name, tls := range tests {
		t.Run(name, func(t *testing.T) {
			objs := RenderCertManager(CertManagerInput{Gateway: gw.Name, Namespace: gw.Namespace, TLS: tls,
				Owner: &metav1.OwnerReference{
					APIVersion: "gateway.networking.k8s.io/v1", Kind: "Gateway", Name: gw.Name, UID: gw.UID,
					BlockOwnerDeletion: ptr.To(true),
				}})
			if deleted := shimDeletes(gw, objs); len(deleted) > 0 {
				t.Errorf("cert-manager's gateway-shim would delete the Certificates %v", deleted)
			}
			for _, u := range objs {
				if !ownedBy(u, gw) {
					t.Errorf("%s %s has owner references %+v, none to Gateway %s (uid %s)",
						u.GetKind(), u.GetName(), u.GetOwnerReferences(), gw.Name, gw.UID)
				}
			}
		})
	}
}

// shimDeletes applies the clean-up rule of cert-manager's gateway-shim
// (findCertificatesToBeRemoved in pkg/controller/certificate-shim/sync.go): of the
// Certificates in the Gateway's namespace it deletes those the Gateway controls whose
// spec.secretName no listener's certificateRefs name. It returns their names.
func shimDeletes(gw *gwapiv1.Gateway, objs []*unstructured.Unstructured) []string {
	named := map[string]bool{}
	for _, l := range gw.Spec.Listeners {
		if l.TLS == nil {
			continue
		}
		for _, ref := range l.TLS.CertificateRefs {
			named[string(ref.Name)] = true
		}
	}
	var deleted []string
	for _, u := range objs {
		if u.GetKind() != KindCertificate || u.GetNamespace() != gw.Namespace || !metav1.IsControlledBy(u, gw) {
			continue
		}
		if secret, _, _ := unstructured.NestedString(u.Object, "spec", "secretName"); !named[secret] {
			deleted = append(deleted, u.GetName())
		}
	}
	return deleted
}

// ownedBy reports whether o has an owner reference to gw, which the garbage collector
// follows whether or not it is a controller reference.
func ownedBy(o metav1.Object, gw *gwapiv1.Gateway) bool {
	for _, ref := range o.GetOwnerReferences() {
		if ref.UID == gw.UID && ref.Kind == "Gateway" && ref.APIVersion == gwapiv1.GroupVersion.String() {
			return true
		}
	}
	return false
}
