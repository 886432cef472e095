package infra

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

// listenerPort is one port Caddy listens on for the Gateway's listeners.
type listenerPort struct {
	port     int32
	protocol corev1.Protocol
}

// name is the port's name in the Service and the container (≤ 15 characters).
func (p listenerPort) name() string {
	if p.protocol == corev1.ProtocolUDP {
		return fmt.Sprintf("udp-%d", p.port)
	}
	return fmt.Sprintf("tcp-%d", p.port)
}

// listenerPorts returns the distinct ports of the listeners, sorted: TCP for HTTP, HTTPS,
// TLS and TCP listeners, UDP for UDP listeners, and UDP as well for HTTPS listeners when
// HTTP/3 is on.
func listenerPorts(listeners []gwapiv1.Listener, h3 bool) []listenerPort {
	seen := map[listenerPort]bool{}
	var out []listenerPort
	add := func(p listenerPort) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, l := range listeners {
		port := l.Port
		switch l.Protocol {
		case gwapiv1.UDPProtocolType:
			add(listenerPort{port, corev1.ProtocolUDP})
		case gwapiv1.HTTPSProtocolType:
			add(listenerPort{port, corev1.ProtocolTCP})
			if h3 {
				add(listenerPort{port, corev1.ProtocolUDP})
			}
		default:
			add(listenerPort{port, corev1.ProtocolTCP})
		}
	}
	slices.SortFunc(out, func(a, b listenerPort) int {
		return cmp.Or(cmp.Compare(a.port, b.port), cmp.Compare(a.protocol, b.protocol))
	})
	return out
}

func hasH3(spec *v1alpha1.CaddyProxyConfigSpec) bool {
	return spec.Caddy != nil && slices.Contains(spec.Caddy.Protocols, "h3")
}
