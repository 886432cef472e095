package params_test

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/params"
)

func ref(group, kind, name string, namespace *string) *gwapiv1.ParametersReference {
	r := &gwapiv1.ParametersReference{Group: gwapiv1.Group(group), Kind: gwapiv1.Kind(kind), Name: name}
	if namespace != nil {
		ns := gwapiv1.Namespace(*namespace)
		r.Namespace = &ns
	}
	return r
}

func str(s string) *string { return &s }

func TestClassRef(t *testing.T) {
	tests := map[string]struct {
		ref     *gwapiv1.ParametersReference
		wantKey types.NamespacedName
		wantOK  bool
		wantErr string
	}{
		"no reference means defaults": {ref: nil},
		"CaddyProxyConfig with a namespace": {
			ref:     ref("gateway.caddygateway.io", "CaddyProxyConfig", "caddy", str("infra")),
			wantKey: types.NamespacedName{Namespace: "infra", Name: "caddy"},
			wantOK:  true,
		},
		"wrong group": {
			ref:     ref("gateway.networking.k8s.io", "CaddyProxyConfig", "caddy", str("infra")),
			wantErr: `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "gateway.networking.k8s.io" kind "CaddyProxyConfig"`,
		},
		"core group": {
			ref:     ref("", "ConfigMap", "caddy", str("infra")),
			wantErr: `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "" kind "ConfigMap"`,
		},
		"wrong kind": {
			ref:     ref("gateway.caddygateway.io", "CaddyProxyConfigs", "caddy", str("infra")),
			wantErr: `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "gateway.caddygateway.io" kind "CaddyProxyConfigs"`,
		},
		"kind is case-sensitive": {
			ref:     ref("gateway.caddygateway.io", "caddyproxyconfig", "caddy", str("infra")),
			wantErr: `spec.parametersRef must refer to group "gateway.caddygateway.io" kind "CaddyProxyConfig", not group "gateway.caddygateway.io" kind "caddyproxyconfig"`,
		},
		"no namespace": {
			ref:     ref("gateway.caddygateway.io", "CaddyProxyConfig", "caddy", nil),
			wantErr: `spec.parametersRef.namespace is required: CaddyProxyConfig "caddy" is namespaced`,
		},
		"empty namespace": {
			ref:     ref("gateway.caddygateway.io", "CaddyProxyConfig", "caddy", str("")),
			wantErr: `spec.parametersRef.namespace is required: CaddyProxyConfig "caddy" is namespaced`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			key, ok, err := params.ClassRef(tc.ref)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if key != tc.wantKey || ok != tc.wantOK {
				t.Errorf("ClassRef = %v, %t; want %v, %t", key, ok, tc.wantKey, tc.wantOK)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	key := types.NamespacedName{Namespace: "infra", Name: "caddy"}
	cause := errors.New("spec.x: Invalid value")
	tests := map[string]struct {
		err  error
		want string
	}{
		"not found": {err: params.NotFound(key), want: "spec.parametersRef: CaddyProxyConfig infra/caddy not found"},
		"invalid":   {err: params.Invalid(key, cause), want: "spec.parametersRef: CaddyProxyConfig infra/caddy is invalid: spec.x: Invalid value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.err.Error() != tc.want {
				t.Errorf("got %q, want %q", tc.err, tc.want)
			}
		})
	}
	if !errors.Is(params.Invalid(key, cause), cause) {
		t.Error("Invalid does not wrap its cause")
	}
}
