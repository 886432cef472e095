package v1alpha1_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/params"
)

// TestInvalidObjectsAreRejected sends objects that break one schema or CEL rule each and
// checks that the API server refuses them with a message naming the offending field.
func TestInvalidObjectsAreRejected(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec string
		// want are substrings the error must contain: the field path and the rule's message.
		want []string
	}{
		"autoscaling with DaemonSet": {
			spec: `{workload: {kind: DaemonSet, autoscaling: {maxReplicas: 3}}}`,
			want: []string{"spec.workload", "workload.autoscaling is only supported with workload.kind Deployment"},
		},
		"replicas with DaemonSet": {
			spec: `{workload: {kind: DaemonSet, replicas: 2}}`,
			want: []string{"spec.workload", "workload.replicas is only supported with workload.kind Deployment"},
		},
		"replicas and autoscaling together": {
			spec: `{workload: {replicas: 2, autoscaling: {maxReplicas: 3}}}`,
			want: []string{"spec.workload", "workload.replicas and workload.autoscaling are mutually exclusive"},
		},
		"strategy with DaemonSet": {
			spec: `{workload: {kind: DaemonSet, strategy: {type: Recreate}}}`,
			want: []string{"spec.workload", "workload.strategy is only supported with workload.kind Deployment"},
		},
		"updateStrategy with Deployment": {
			spec: `{workload: {kind: Deployment, updateStrategy: {type: OnDelete}}}`,
			want: []string{"spec.workload", "workload.updateStrategy is only supported with workload.kind DaemonSet"},
		},
		"workload kind not in enum": {
			spec: `{workload: {kind: StatefulSet}}`,
			want: []string{"spec.workload.kind", `Unsupported value: "StatefulSet"`},
		},
		"replicas above maximum": {
			spec: `{workload: {replicas: 1001}}`,
			want: []string{"spec.workload.replicas", "less than or equal to 1000"},
		},
		"minReplicas above maxReplicas": {
			spec: `{workload: {autoscaling: {minReplicas: 5, maxReplicas: 3}}}`,
			want: []string{"spec.workload.autoscaling", "autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas"},
		},
		"autoscaling without maxReplicas": {
			spec: `{workload: {autoscaling: {minReplicas: 2}}}`,
			want: []string{"spec.workload.autoscaling.maxReplicas", "Required value"},
		},
		"podDisruptionBudget with both minAvailable and maxUnavailable": {
			spec: `{workload: {podDisruptionBudget: {minAvailable: 1, maxUnavailable: "50%"}}}`,
			want: []string{"spec.workload.podDisruptionBudget", "podDisruptionBudget needs exactly one of minAvailable and maxUnavailable"},
		},
		"podDisruptionBudget with neither minAvailable nor maxUnavailable": {
			spec: `{workload: {podDisruptionBudget: {unhealthyPodEvictionPolicy: AlwaysAllow}}}`,
			want: []string{"spec.workload.podDisruptionBudget", "podDisruptionBudget needs exactly one of minAvailable and maxUnavailable"},
		},
		"terminationGracePeriodSeconds above maximum": {
			spec: `{workload: {pod: {terminationGracePeriodSeconds: 3601}}}`,
			want: []string{"spec.workload.pod.terminationGracePeriodSeconds", "less than or equal to 3600"},
		},
		"loadBalancerClass with ClusterIP": {
			spec: `{service: {type: ClusterIP, loadBalancerClass: example.com/lb}}`,
			want: []string{"spec.service", "service.loadBalancerClass is only supported with service.type LoadBalancer"},
		},
		"loadBalancerSourceRanges with NodePort": {
			spec: `{service: {type: NodePort, loadBalancerSourceRanges: [10.0.0.0/8]}}`,
			want: []string{"spec.service", "service.loadBalancerSourceRanges is only supported with service.type LoadBalancer"},
		},
		"loadBalancerSourceRanges entry not a CIDR": {
			spec: `{service: {loadBalancerSourceRanges: [10.0.0.0/8, 10.0.0.1]}}`,
			want: []string{"spec.service.loadBalancerSourceRanges", "service.loadBalancerSourceRanges entries must be CIDRs"},
		},
		"nodePorts with ClusterIP": {
			spec: `{service: {type: ClusterIP, nodePorts: [{port: 80, nodePort: 30080}]}}`,
			want: []string{"spec.service", "service.nodePorts is not supported with service.type ClusterIP"},
		},
		"externalTrafficPolicy with ClusterIP": {
			spec: `{service: {type: ClusterIP, externalTrafficPolicy: Local}}`,
			want: []string{"spec.service", "service.externalTrafficPolicy is not supported with service.type ClusterIP"},
		},
		"service type not in enum": {
			spec: `{service: {type: ExternalName}}`,
			want: []string{"spec.service.type", `Unsupported value: "ExternalName"`},
		},
		"nodePort out of range": {
			spec: `{service: {type: NodePort, nodePorts: [{port: 80, nodePort: 0}]}}`,
			want: []string{"spec.service.nodePorts[0].nodePort", "greater than or equal to 1"},
		},
		"adminPort 0": {
			spec: `{controlPlane: {adminPort: 0}}`,
			want: []string{"spec.controlPlane.adminPort", "greater than or equal to 1"},
		},
		"adminPort 70000": {
			spec: `{controlPlane: {adminPort: 70000}}`,
			want: []string{"spec.controlPlane.adminPort", "less than or equal to 65535"},
		},
		"renewBefore longer than duration": {
			spec: `{controlPlane: {tls: {duration: 24h, renewBefore: 48h}}}`,
			want: []string{"spec.controlPlane.tls", "controlPlane.tls.renewBefore must be shorter than controlPlane.tls.duration"},
		},
		"renewBefore equal to duration in other units": {
			spec: `{controlPlane: {tls: {duration: 1h, renewBefore: 60m}}}`,
			want: []string{"spec.controlPlane.tls", "controlPlane.tls.renewBefore must be shorter than controlPlane.tls.duration"},
		},
		"duration not matching the pattern": {
			spec: `{controlPlane: {tls: {duration: 90 days}}}`,
			want: []string{"spec.controlPlane.tls.duration", "should match"},
		},
		"negative duration": {
			spec: `{controlPlane: {push: {timeout: -5s}}}`,
			want: []string{"spec.controlPlane.push.timeout", "should match"},
		},
		"issuerRef kind not in enum": {
			spec: `{controlPlane: {tls: {issuerRef: {kind: Certificate, name: ca}}}}`,
			want: []string{"spec.controlPlane.tls.issuerRef.kind", `Unsupported value: "Certificate"`},
		},
		"push initialBackoff above maxBackoff": {
			spec: `{controlPlane: {push: {initialBackoff: 2m, maxBackoff: 1m}}}`,
			want: []string{"spec.controlPlane.push", "controlPlane.push.initialBackoff must not exceed controlPlane.push.maxBackoff"},
		},
		"push maxConcurrentPods 0": {
			spec: `{controlPlane: {push: {maxConcurrentPods: 0}}}`,
			want: []string{"spec.controlPlane.push.maxConcurrentPods", "greater than or equal to 1"},
		},
		"patch target unknown": {
			spec: `{patches: [{target: ConfigMap, value: {data: {a: b}}}]}`,
			want: []string{"spec.patches[0].target", `Unsupported value: "ConfigMap"`},
		},
		"patch type unknown": {
			spec: `{patches: [{target: Service, type: Kustomize, value: {}}]}`,
			want: []string{"spec.patches[0].type", `Unsupported value: "Kustomize"`},
		},
		"patch without value": {
			spec: `{patches: [{target: Service}]}`,
			want: []string{"spec.patches[0].value", "Required value"},
		},
		"protocols with unknown value": {
			spec: `{caddy: {protocols: [h1, h4]}}`,
			want: []string{"spec.caddy.protocols[1]", `Unsupported value: "h4"`},
		},
		"protocols duplicated": {
			spec: `{caddy: {protocols: [h1, h2, h1]}}`,
			want: []string{"spec.caddy.protocols[2]", `Duplicate value: "h1"`},
		},
		"protocols empty": {
			spec: `{caddy: {protocols: []}}`,
			want: []string{"spec.caddy.protocols", "should have at least 1 items"},
		},
		"trustedProxies entry not a CIDR": {
			spec: `{caddy: {trustedProxies: [10.0.0.0/8, proxy.example.com]}}`,
			want: []string{"spec.caddy.trustedProxies", "caddy.trustedProxies entries must be CIDRs"},
		},
		"proxyProtocol allow entry not a CIDR": {
			spec: `{caddy: {proxyProtocol: {allow: [192.168.1.300/24]}}}`,
			want: []string{"spec.caddy.proxyProtocol.allow", "caddy.proxyProtocol.allow entries must be CIDRs"},
		},
		"proxyProtocol without allow entries": {
			spec: `{caddy: {proxyProtocol: {allow: []}}}`,
			want: []string{"spec.caddy.proxyProtocol.allow", "should have at least 1 items"},
		},
		"tls minVersion 1.1": {
			spec: `{caddy: {tls: {minVersion: "1.1"}}}`,
			want: []string{"spec.caddy.tls.minVersion", `Unsupported value: "1.1"`},
		},
		"cipher suite unknown to Caddy": {
			spec: `{caddy: {tls: {cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_RC4_128_SHA]}}}`,
			want: []string{"spec.caddy.tls.cipherSuites[1]", `Unsupported value: "TLS_RSA_WITH_RC4_128_SHA"`},
		},
		"TLS 1.3 cipher suite": {
			spec: `{caddy: {tls: {cipherSuites: [TLS_AES_128_GCM_SHA256]}}}`,
			want: []string{"spec.caddy.tls.cipherSuites[0]", `Unsupported value: "TLS_AES_128_GCM_SHA256"`},
		},
		"cipher suites under minimum TLS 1.3": {
			spec: `{caddy: {tls: {minVersion: "1.3", cipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]}}}`,
			want: []string{"spec.caddy.tls", "caddy.tls.cipherSuites must be empty when caddy.tls.minVersion is 1.3"},
		},
		"protocols without h1": {
			spec: `{caddy: {protocols: [h2, h3]}}`,
			want: []string{"spec.caddy.protocols", "caddy.protocols must include h1"},
		},
		"logLevel not in enum": {
			spec: `{caddy: {logLevel: TRACE}}`,
			want: []string{"spec.caddy.logLevel", `Unsupported value: "TRACE"`},
		},
		"metrics port 0": {
			spec: `{caddy: {metrics: {port: 0}}}`,
			want: []string{"spec.caddy.metrics.port", "greater than or equal to 1"},
		},
		"gracePeriod not matching the pattern": {
			spec: `{caddy: {gracePeriod: "15"}}`,
			want: []string{"spec.caddy.gracePeriod", "should match"},
		},
		"acme directory over plain http": {
			spec: `{acme: {directory: "http://ca.example/directory"}}`,
			want: []string{"spec.acme.directory", "acme.directory must be an https URL"},
		},
		"acme directory not a URL": {
			spec: `{acme: {directory: "letsencrypt-production"}}`,
			want: []string{"spec.acme.directory", "acme.directory must be an https URL"},
		},
		"acme challenge not in enum": {
			spec: `{acme: {challenges: [DNS01]}}`,
			want: []string{"spec.acme.challenges[0]", `Unsupported value: "DNS01"`},
		},
		"acme challenge twice": {
			spec: `{acme: {challenges: [HTTP01, HTTP01]}}`,
			want: []string{"spec.acme.challenges[1]", "Duplicate value"},
		},
		"acme challenges empty": {
			spec: `{acme: {challenges: []}}`,
			want: []string{"spec.acme.challenges", "at least 1 items"},
		},
		"acme email without a domain": {
			spec: `{acme: {email: ops}}`,
			want: []string{"spec.acme.email", "should match"},
		},
		"acme EAB without a key": {
			spec: `{acme: {externalAccountBinding: {keyID: k, macKeySecretRef: {name: eab}}}}`,
			want: []string{"spec.acme.externalAccountBinding.macKeySecretRef.key", "Required value"},
		},
		"acme EAB Secret name not a DNS name": {
			spec: `{acme: {externalAccountBinding: {keyID: k, macKeySecretRef: {name: EAB_Secret, key: k}}}}`,
			want: []string{"spec.acme.externalAccountBinding.macKeySecretRef.name", "should match"},
		},
		"acme trusted CA of another kind": {
			spec: `{acme: {trustedCARef: {kind: ClusterTrustBundle, name: ca}}}`,
			want: []string{"spec.acme.trustedCARef.kind", `Unsupported value: "ClusterTrustBundle"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			obj := fromSpecYAML(t, tc.spec)
			err := env.Client.Create(ctxFor(t), obj)
			if err == nil {
				t.Fatalf("the API server accepted the invalid spec %s", tc.spec)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error for %s, got %T: %v", tc.spec, err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestNearMissesAreAccepted sends valid objects close to the invalid ones above: each rule
// must reject only what it means to, so these prove the rules are not simply always false.
func TestNearMissesAreAccepted(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"autoscaling with Deployment":                `{workload: {kind: Deployment, autoscaling: {minReplicas: 3, maxReplicas: 3}}}`,
		"autoscaling without kind":                   `{workload: {autoscaling: {maxReplicas: 3}}}`,
		"replicas 0 with Deployment":                 `{workload: {kind: Deployment, replicas: 0}}`,
		"updateStrategy with DaemonSet":              `{workload: {kind: DaemonSet, updateStrategy: {type: OnDelete}}}`,
		"podDisruptionBudget with minAvailable only": `{workload: {podDisruptionBudget: {minAvailable: "50%"}}}`,
		"loadBalancerClass with LoadBalancer":        `{service: {type: LoadBalancer, loadBalancerClass: example.com/lb, loadBalancerSourceRanges: [10.0.0.0/8, "2001:db8::/32"]}}`,
		"nodePorts without type":                     `{service: {nodePorts: [{port: 80, nodePort: 30080}], externalTrafficPolicy: Local}}`,
		"renewBefore shorter than duration":          `{controlPlane: {adminPort: 65535, tls: {duration: 1h, renewBefore: 59m59s}}}`,
		"initialBackoff equal to maxBackoff":         `{controlPlane: {push: {initialBackoff: 60s, maxBackoff: 1m}}}`,
		"JSONPatch with a list and Merge an object":  `{patches: [{target: Deployment, type: JSONPatch, value: [{op: add, path: /spec/paused, value: true}]}, {target: Service, type: Merge, value: {metadata: {labels: {a: b}}}}]}`,
		"IPv4 and IPv6 CIDRs":                        `{caddy: {trustedProxies: [10.0.0.0/8, "fd00::/8"], proxyProtocol: {allow: [192.168.0.0/16]}, protocols: [h1, h2, h3, h2c]}}`,
		"fractional durations":                       `{caddy: {gracePeriod: 1.5s, shutdownDelay: 1h30m, streamCloseDelay: 250ms}}`,
		"cipher suites under minimum TLS 1.2":        `{caddy: {tls: {minVersion: "1.2", cipherSuites: [TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]}}}`,
		"minimum TLS 1.3 alone":                      `{caddy: {tls: {minVersion: "1.3"}}}`,
		"h1 only":                                    `{caddy: {protocols: [h1]}}`,
		"acme staging with both challenges":          `{acme: {directory: "https://acme-staging-v02.api.letsencrypt.org/directory", email: ops@example.com, challenges: [HTTP01, TLSALPN01]}}`,
		"acme private CA with EAB and a Secret CA":   `{acme: {directory: "https://ca.internal:9000/acme/directory", externalAccountBinding: {keyID: k, macKeySecretRef: {name: eab, key: mac}}, trustedCARef: {kind: Secret, name: ca}}}`,
	}
	for name, spec := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := env.Client.Create(ctxFor(t), fromSpecYAML(t, spec)); err != nil {
				t.Fatalf("the API server rejected the valid spec %s: %v", spec, err)
			}
		})
	}
}

// TestPatchValueShapeIsLeftToTheOperator documents a limit of the schema: patches[].value is
// schemaless, so CEL cannot see it and the API server stores a value of the wrong shape.
// The operator's own validation must then reject it, with the field path.
func TestPatchValueShapeIsLeftToTheOperator(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		spec string
		want string
	}{
		"JSONPatch with an object value": {
			spec: `{patches: [{target: Deployment, type: JSONPatch, value: {spec: {replicas: 3}}}]}`,
			want: "spec.patches[0].value: Invalid value",
		},
		"StrategicMerge with a list value": {
			spec: `{patches: [{target: Service, type: StrategicMerge, value: [{op: add, path: /a, value: b}]}]}`,
			want: "spec.patches[0].value: Invalid value",
		},
		"defaulted type with a list value": {
			spec: `{patches: [{target: Service, value: {}}, {target: Service, value: [{op: remove, path: /a}]}]}`,
			want: "must be an object for type StrategicMerge",
		},
		"Merge with a string value": {
			spec: `{patches: [{target: Service, type: Merge, value: "spec: {}"}]}`,
			want: "must be an object for type Merge",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			obj := fromSpecYAML(t, tc.spec)
			if err := env.Client.Create(ctxFor(t), obj); err != nil {
				t.Fatalf("the API server rejected %s: %v", tc.spec, err)
			}
			var cpc v1alpha1.CaddyProxyConfig
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, &cpc); err != nil {
				t.Fatal(err)
			}
			err := params.Validate(&cpc.Spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("params.Validate(%s) = %v, want an error containing %q", tc.spec, err, tc.want)
			}
		})
	}
}
