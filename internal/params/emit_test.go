package params_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/params"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// TestEmitOptionsHonourEveryField sets every field of spec.caddy and finds each in the
// config the operator pushes. A field added to CaddyRuntimeSpec without a row here fails
// the test: every field is honoured, or refused by the API, never accepted and dropped.
func TestEmitOptionsHonourEveryField(t *testing.T) {
	d := func(s string) *metav1.Duration {
		v, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return &metav1.Duration{Duration: v}
	}
	spec := &v1alpha1.CaddyRuntimeSpec{
		GracePeriod:           d("21s"),
		ShutdownDelay:         d("7s"),
		StreamCloseDelay:      d("1m30s"),
		Protocols:             []v1alpha1.HTTPProtocol{"h1", "h2"},
		Timeouts:              &v1alpha1.ServerTimeouts{ReadHeader: d("3s"), Read: d("4s"), Write: d("5s"), Idle: d("6s")},
		TrustedProxies:        []string{"10.1.0.0/16"},
		UDPSessionIdleTimeout: d("47s"),
		ProxyProtocol:         &v1alpha1.ProxyProtocolSpec{Allow: []string{"10.2.0.0/16"}, Timeout: d("2s")},
		TLS:                   &v1alpha1.TLSSettings{MinVersion: ptr.To("1.2"), CipherSuites: []string{"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"}},
		LogLevel:              ptr.To(v1alpha1.LogLevel("WARN")),
		AccessLogs:            &v1alpha1.AccessLogSpec{Enabled: ptr.To(true), Format: ptr.To(v1alpha1.AccessLogFormat("console"))},
		Metrics:               &v1alpha1.MetricsSpec{Port: ptr.To[int32](9300)},
	}
	// Each field's marks in the compact, key-sorted JSON of the pushed config.
	want := map[string][]string{
		"GracePeriod":           {`"grace_period":"21s"`},
		"ShutdownDelay":         {`{"events":["stopping"],"handlers":[{"delay":"7s","handler":"gateway_drain"}]}`},
		"StreamCloseDelay":      {`"stream_close_delay":"1m30s"`},
		"Protocols":             {`"protocols":["h1","h2"]`},
		"Timeouts":              {`"read_header_timeout":"3s"`, `"read_timeout":"4s"`, `"write_timeout":"5s"`, `"idle_timeout":"6s"`},
		"TrustedProxies":        {`"ranges":["10.1.0.0/16"]`},
		"UDPSessionIdleTimeout": {`"idle_timeout":"47s","listen":["udp/:5353"]`},
		"ProxyProtocol":         {`"allow":["10.2.0.0/16"]`, `"timeout":"2s"`, `"wrapper":"proxy_protocol"`},
		"TLS":                   {`"protocol_min":"tls1.2"`, `"cipher_suites":["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"]`},
		"LogLevel":              {`"level":"WARN"`},
		"AccessLogs":            {`"include":["http.log.access"]`, `"format":"console"`},
		"Metrics":               {`"listen":[":9300"]`},
	}
	for f := range reflect.TypeFor[v1alpha1.CaddyRuntimeSpec]().Fields() {
		if _, ok := want[f.Name]; !ok {
			t.Errorf("spec.caddy field %s has no row here: show where it reaches the pushed config", f.Name)
		}
	}
	// HTTP and HTTPS listeners with an HTTPRoute, and the UDP listeners of udproute-backends.
	in := fixture.LoadCase(t, "../translator/testdata", "gateway-https-terminate")
	udp := fixture.LoadCase(t, "../translator/testdata", "udproute-backends")
	in.Gateway.Spec.Listeners = append(in.Gateway.Spec.Listeners, udp.Gateway.Spec.Listeners...)
	in.UDPRoutes, in.Services = udp.UDPRoutes, append(in.Services, udp.Services...)
	got := pushedJSON(t, in, params.EmitOptions(spec))
	plain := pushedJSON(t, in, params.EmitOptions(nil))
	for field, marks := range want {
		for _, m := range marks {
			if !strings.Contains(got, m) {
				t.Errorf("spec.caddy.%s: the pushed config lacks %s", field, m)
			}
			if strings.Contains(plain, m) {
				t.Errorf("spec.caddy.%s: %s is in the config without the field too, so it proves nothing", field, m)
			}
		}
	}
}

// TestEmitOptionsDefaultShutdownDelay: without spec.caddy.shutdownDelay, a terminating
// Caddy keeps accepting on every listener for 10s, long enough for kube-proxy and load
// balancers to stop sending it new connections before its address goes.
func TestEmitOptionsDefaultShutdownDelay(t *testing.T) {
	in := fixture.LoadCase(t, "../translator/testdata", "gateway-https-terminate")
	drain := `{"events":["stopping"],"handlers":[{"delay":"10s","handler":"gateway_drain"}]}`
	if got := pushedJSON(t, in, params.EmitOptions(nil)); !strings.Contains(got, drain) {
		t.Errorf("the pushed config without spec.caddy.shutdownDelay has no 10s shutdown delay:\n%s", got)
	}
}

// TestEmitOptionsZeroShutdownDelayHoldsNothing: spec.caddy.shutdownDelay 0s subscribes no
// drain handler (whose delay must be positive, so Caddy would refuse the whole config):
// the pod's listeners close the moment it is told to stop.
func TestEmitOptionsZeroShutdownDelayHoldsNothing(t *testing.T) {
	in := fixture.LoadCase(t, "../translator/testdata", "gateway-https-terminate")
	opts := params.EmitOptions(&v1alpha1.CaddyRuntimeSpec{ShutdownDelay: &metav1.Duration{}})
	if got := pushedJSON(t, in, opts); strings.Contains(got, "gateway_drain") {
		t.Errorf("the pushed config with spec.caddy.shutdownDelay 0s subscribes the drain handler:\n%s", got)
	}
}

// pushedJSON is what is pushed for in with opts: the config and the routes of each host
// table, each re-encoded compact with sorted keys.
func pushedJSON(t *testing.T, in translator.Input, opts emit.Options) string {
	t.Helper()
	res, err := emit.Emit(translator.Translate(in).IR, opts)
	if err != nil {
		t.Fatal(err)
	}
	pushed := compactSorted(t, res.JSON)
	for _, h := range res.Tables {
		pushed += "\n" + compactSorted(t, h.Routes)
	}
	return pushed
}

// compactSorted re-encodes JSON compact with sorted keys.
func compactSorted(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
