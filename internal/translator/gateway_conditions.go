package translator

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/status"
)

// GatewayConditionTypes are the Gateway condition types the translation decides.
// Output.Conditions holds those that apply; a type listed here but absent from it must
// be removed from the Gateway's status (the spec says so for
// InsecureFrontendValidationMode once the insecure mode is gone), and for ResolvedRefs
// once spec.tls.backend.clientCertificateRef is gone.
var GatewayConditionTypes = []string{
	string(gwapiv1.GatewayConditionInsecureFrontendValidationMode),
	string(gwapiv1.GatewayConditionResolvedRefs),
}

// gatewayConditions are the Gateway conditions the translation decides, sorted by type.
func (t *translation) gatewayConditions() []metav1.Condition {
	var out []metav1.Condition
	if where := t.insecureFrontendValidation(); len(where) > 0 {
		out = append(out, status.GatewayInsecureFrontendValidation(t.gw.Generation, where))
	}
	if t.clientCertCond != nil {
		out = append(out, *t.clientCertCond)
	}
	return out
}

// insecureFrontendValidation names the frontend validations (default, per port) whose
// mode is AllowInsecureFallback.
func (t *translation) insecureFrontendValidation() []string {
	if t.gw.Spec.TLS == nil || t.gw.Spec.TLS.Frontend == nil {
		return nil
	}
	f := t.gw.Spec.TLS.Frontend
	var where []string
	if v := f.Default.Validation; v != nil && v.Mode == gwapiv1.AllowInsecureFallback {
		where = append(where, "spec.tls.frontend.default")
	}
	for i := range f.PerPort {
		if v := f.PerPort[i].TLS.Validation; v != nil && v.Mode == gwapiv1.AllowInsecureFallback {
			where = append(where, fmt.Sprintf("spec.tls.frontend.perPort[%d] (port %d)", i, f.PerPort[i].Port))
		}
	}
	return where
}
