package params_test

import (
	"os"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/params"
)

func TestSetObservability(t *testing.T) {
	tests := map[string]struct {
		caddy *v1alpha1.CaddyRuntimeSpec
		want  emit.Options
	}{
		"unset":      {want: emit.Options{MetricsPort: 9180}},
		"empty":      {caddy: &v1alpha1.CaddyRuntimeSpec{}, want: emit.Options{MetricsPort: 9180}},
		"zero delay": {caddy: &v1alpha1.CaddyRuntimeSpec{StreamCloseDelay: &metav1.Duration{}}, want: emit.Options{MetricsPort: 9180}},
		"all set": {caddy: &v1alpha1.CaddyRuntimeSpec{
			StreamCloseDelay: &metav1.Duration{Duration: 90 * time.Second},
			LogLevel:         ptr.To(v1alpha1.LogLevel("WARN")),
			AccessLogs:       &v1alpha1.AccessLogSpec{Enabled: ptr.To(true), Format: ptr.To(v1alpha1.AccessLogFormat("console"))},
			Metrics:          &v1alpha1.MetricsSpec{Enabled: ptr.To(true), Port: ptr.To(int32(9300))},
		}, want: emit.Options{StreamCloseDelay: "1m30s", LogLevel: "WARN", AccessLogFormat: "console", MetricsPort: 9300}},
		"access logs enabled, default format": {
			caddy: &v1alpha1.CaddyRuntimeSpec{AccessLogs: &v1alpha1.AccessLogSpec{Enabled: ptr.To(true)}},
			want:  emit.Options{AccessLogFormat: "json", MetricsPort: 9180},
		},
		"access logs with a format but not enabled": {
			caddy: &v1alpha1.CaddyRuntimeSpec{AccessLogs: &v1alpha1.AccessLogSpec{Format: ptr.To(v1alpha1.AccessLogFormat("console"))}},
			want:  emit.Options{MetricsPort: 9180},
		},
		"metrics disabled": {
			caddy: &v1alpha1.CaddyRuntimeSpec{Metrics: &v1alpha1.MetricsSpec{Enabled: ptr.To(false)}},
			want:  emit.Options{MetricsPort: 9180, DisableMetrics: true},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got emit.Options
			params.SetObservability(&got, tc.caddy)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestSampleTurnsOnAccessLogs checks the sample CaddyProxyConfig: its access logs reach
// the emitter's options.
func TestSampleTurnsOnAccessLogs(t *testing.T) {
	data, err := os.ReadFile("../../config/samples/gateway_v1alpha1_caddyproxyconfig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cpc v1alpha1.CaddyProxyConfig
	if err := yaml.UnmarshalStrict(data, &cpc); err != nil {
		t.Fatal(err)
	}
	var got emit.Options
	params.SetObservability(&got, cpc.Spec.Caddy)
	if got.AccessLogFormat != "json" || got.DisableMetrics || got.MetricsPort != 9180 {
		t.Errorf("sample gives %+v, want json access logs and metrics on 9180", got)
	}
}
