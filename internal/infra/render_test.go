package infra

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/adminproxy"
	"github.com/caddy-gateway/operator/internal/golden"
)

// testInput builds the Input of a golden case from testdata/<case>.in.yaml: one Gateway
// and up to two CaddyProxyConfigs, and the listeners of any ListenerSets (all taken as
// allowed: which sets a Gateway allows is the translator's business). The one the Gateway's spec.infrastructure.parametersRef
// names is the Gateway level; the other is the class level. A case whose name starts
// with "acme-" renders a Gateway with automatic certificates (Input.ACME: the translation
// decides it, from listener options this package does not read).
func testInput(t *testing.T, path string) Input {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var gw *gwapiv1.Gateway
	var cpcs []*v1alpha1.CaddyProxyConfig
	var setListeners []gwapiv1.Listener
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "Gateway":
			gw = &gwapiv1.Gateway{}
			if err := yaml.UnmarshalStrict(doc, gw); err != nil {
				t.Fatal(err)
			}
		case "CaddyProxyConfig":
			c := &v1alpha1.CaddyProxyConfig{}
			if err := yaml.UnmarshalStrict(doc, c); err != nil {
				t.Fatal(err)
			}
			cpcs = append(cpcs, c)
		case "ListenerSet":
			ls := &gwapiv1.ListenerSet{}
			if err := yaml.UnmarshalStrict(doc, ls); err != nil {
				t.Fatal(err)
			}
			for _, e := range ls.Spec.Listeners {
				setListeners = append(setListeners, gwapiv1.Listener(e))
			}
		case "":
		default:
			t.Fatalf("unexpected kind %q", meta.Kind)
		}
	}
	if gw == nil {
		t.Fatal("no Gateway")
	}
	var class, gateway *v1alpha1.CaddyProxyConfigSpec
	for _, c := range cpcs {
		if inf := gw.Spec.Infrastructure; inf != nil && inf.ParametersRef != nil && inf.ParametersRef.Name == c.Name {
			gateway = &c.Spec
		} else {
			class = &c.Spec
		}
	}
	return Input{
		Gateway:              gw,
		ListenerSetListeners: setListeners,
		Spec:                 Merge(class, gateway),
		CaddyImage:           "localhost/caddy-gateway-caddy:test",
		OperatorImage:        "localhost/caddy-gateway-operator:test",
		Operator: OperatorPods{Namespace: "caddy-gateway-system", Labels: map[string]string{
			"app.kubernetes.io/name": "caddy-gateway-operator", "control-plane": "controller-manager"}},
		ACME: strings.HasPrefix(filepath.Base(path), "acme-"),
	}
}

func TestRenderGolden(t *testing.T) {
	const dir = "testdata"
	cases := golden.Cases(t, dir)
	for _, name := range cases {
		t.Run(name, func(t *testing.T) {
			in := testInput(t, filepath.Join(dir, name+".in.yaml"))
			objs, err := Render(in)
			var got []byte
			if err != nil {
				got = []byte("error: " + err.Error() + "\n")
			} else {
				anys := make([]any, len(objs))
				for i, o := range objs {
					anys[i] = o
				}
				if got, err = golden.YAML(anys...); err != nil {
					t.Fatal(err)
				}
				again, err := Render(in)
				if err != nil {
					t.Fatal(err)
				}
				anys = anys[:0]
				for _, o := range again {
					anys = append(anys, o)
				}
				if b, _ := golden.YAML(anys...); !bytes.Equal(b, got) {
					t.Fatal("Render is not deterministic")
				}
			}
			golden.Check(t, filepath.Join(dir, name+".out.yaml"), got)
		})
	}
	golden.Sweep(t, dir, ".out.yaml", cases)
}

// The pod and the sidecar must agree on the paths the admin-proxy uses by default.
func TestSharedPaths(t *testing.T) {
	if AdminSocket != adminproxy.DefaultSocket || AdminTLSDir != adminproxy.DefaultTLSDir {
		t.Fatalf("infra (%s, %s) and adminproxy (%s, %s) disagree",
			AdminSocket, AdminTLSDir, adminproxy.DefaultSocket, adminproxy.DefaultTLSDir)
	}
}
