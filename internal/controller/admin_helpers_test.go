package controller_test

import (
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
)

// operatorNS is the operator's namespace of the suite's managers.
const operatorNS = "caddy-gateway-system"

// testMountGrace replaces controller.DefaultMountGrace in the suite's managers.
const testMountGrace = 3 * time.Second

// admin returns the names of the fixture Gateway's admin objects in operatorNS.
func (f *fixture) admin() certs.Names { return certs.NamesFor(f.ns, f.gateway.Name) }

// adminKey is the key of an admin object in operatorNS.
func adminKey(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: operatorNS, Name: name}
}

// checkAdminMeta checks that an object of operatorNS is tied to gw by labels and
// annotation, and has no owner reference (none can point across namespaces).
func checkAdminMeta(obj client.Object, gw *gwapiv1.Gateway) error {
	if refs := obj.GetOwnerReferences(); len(refs) > 0 {
		return fmt.Errorf("%T %s has owner references %+v, want none", obj, obj.GetName(), refs)
	}
	if err := hasAll(fmt.Sprintf("%T %s annotations", obj, obj.GetName()), obj.GetAnnotations(), map[string]string{
		certs.AnnotationGateway: gw.Namespace + "/" + gw.Name,
	}); err != nil {
		return err
	}
	return hasAll(fmt.Sprintf("%T %s labels", obj, obj.GetName()), obj.GetLabels(), map[string]string{
		infra.LabelManagedBy: infra.ManagedByValue, infra.LabelName: infra.NameValue, infra.LabelGatewayName: gw.Name,
		certs.LabelGatewayUID: string(gw.UID), certs.LabelGatewayNamespace: gw.Namespace,
	})
}
