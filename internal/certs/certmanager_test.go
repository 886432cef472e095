package certs

import (
	"os"
	"path/filepath"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
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
					Name: c.Gateway.Name, UID: c.Gateway.UID,
					Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
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
