package translator_test

import (
	"slices"
	"testing"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestListenerSetListeners: the output carries the listeners of the ListenerSets the
// Gateway allows, in precedence order, but those on the pods' own ports; a set the
// Gateway does not allow, or that names another Gateway, gives none.
func TestListenerSetListeners(t *testing.T) {
	names := func(out translator.Output) []string {
		var got []string
		for _, l := range out.ListenerSetListeners {
			got = append(got, string(*l.Hostname))
		}
		return got
	}
	in := fixture.LoadCase(t, "testdata", "listenerset-not-allowed")
	if got, want := names(translator.Translate(in)), []string{"inside.example.com"}; !slices.Equal(got, want) {
		t.Errorf("allowed from the same namespace: listeners %v, want %v", got, want)
	}
	all := gwapiv1.NamespacesFromAll
	gw := in.Gateway.DeepCopy()
	gw.Spec.AllowedListeners.Namespaces.From = &all
	in.Gateway = gw
	if got, want := names(translator.Translate(in)), []string{"inside.example.com", "b.example.com"}; !slices.Equal(got, want) {
		t.Errorf("allowed from all namespaces: listeners %v, want %v", got, want)
	}
	in.OwnPorts = map[int32]string{8080: "the admin port"}
	if got, want := names(translator.Translate(in)), []string{"inside.example.com"}; !slices.Equal(got, want) {
		t.Errorf("with port 8080 the pods' own: listeners %v, want %v", got, want)
	}
}
