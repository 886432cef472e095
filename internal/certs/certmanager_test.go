package certs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
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
	cases := golden.Cases(t, dir)
	for _, name := range cases {
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
				Gateway: c.Gateway.Name, Namespace: c.Gateway.Namespace, OperatorNamespace: "caddy-gateway-system",
				Labels: c.Labels, Annotations: c.Annotations, TLS: c.TLS,
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
	golden.Sweep(t, dir, ".out.yaml", cases)
}

func TestNamesForLongGateway(t *testing.T) {
	long := make([]byte, 253)
	for i := range long {
		long[i] = 'g'
	}
	n := NamesFor("infra", string(long))
	for _, s := range []string{n.SelfSignedIssuer, n.CA, n.Server, n.Client, n.Trust, ServerSecret(string(long))} {
		if len(s) > 253 {
			t.Errorf("name %q is %d characters", s, len(s))
		}
	}
	if n.Server == n.Client || n.CA == n.Server || n.Trust == n.CA {
		t.Errorf("names collide: %+v", n)
	}
}

// TestNamesForDistinctGateways: Gateways whose namespace and name join to the same
// string with a dash get distinct names in the operator's namespace.
func TestNamesForDistinctGateways(t *testing.T) {
	a, b := NamesFor("a-b", "c"), NamesFor("a", "b-c")
	if a == b || a.Client == b.Client {
		t.Errorf("Gateways a-b/c and a/b-c share names: %+v", a)
	}
}

// TestRenderCertManagerSurvivesGatewayShim renders the objects of a Gateway that
// cert-manager's gateway-shim also serves (annotated for an issuer, one HTTPS listener
// naming the Secret the shim issues) and applies the shim's clean-up rule to them: none
// may be deleted. They all live in the operator's namespace, with the client certificate
// naming the Gateway.
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
				OperatorNamespace: "caddy-gateway-system"})
			if deleted := shimDeletes(gw, objs); len(deleted) > 0 {
				t.Errorf("cert-manager's gateway-shim would delete the Certificates %v", deleted)
			}
			for _, u := range objs {
				if u.GetNamespace() != "caddy-gateway-system" || len(u.GetOwnerReferences()) > 0 {
					t.Errorf("%s %s is in namespace %q with owner references %+v, want the operator's namespace and none",
						u.GetKind(), u.GetName(), u.GetNamespace(), u.GetOwnerReferences())
				}
				if u.GetName() == NamesFor(gw.Namespace, gw.Name).Client {
					uris, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "uris")
					if want := "spiffe://caddygateway.io/ns/apps/gateway/web"; !slices.Equal(uris, []string{want}) {
						t.Errorf("client Certificate uris = %v, want [%s]", uris, want)
					}
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
