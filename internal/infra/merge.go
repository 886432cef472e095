package infra

import (
	"reflect"

	"github.com/caddy-gateway/operator/api/v1alpha1"
)

var apiPkgPath = reflect.TypeFor[v1alpha1.CaddyProxyConfigSpec]().PkgPath()

// Merge combines the class-level and the Gateway-level CaddyProxyConfig specs as the API
// documents (CaddyProxyConfigSpec): a field the Gateway level sets replaces the class-level
// value; the operator's own nested structs are merged field by field; string maps
// (labels, annotations, nodeSelector) are merged key by key with the Gateway level
// winning; patches are concatenated, class level first. Lists and Kubernetes types
// (affinity, resources, probes, ...) are replaced as a whole. Fields that exclude each
// other follow the Gateway level: its replicas drop the class-level autoscaling and vice
// versa, its workload kind drops class-level fields of the other kind, and its
// minAvailable or maxUnavailable drops the class-level other one. The references of
// spec.acme (externalAccountBinding, trustedCARef) are replaced as a whole, never mixed
// from both levels. gatewayOverrides is the
// class level's alone (params.CheckOverrides refuses a Gateway level that sets it, or a
// field it locks). Either argument may be nil;
// the result never aliases the arguments and is nil only when both are.
func Merge(class, gateway *v1alpha1.CaddyProxyConfigSpec) *v1alpha1.CaddyProxyConfigSpec {
	if class == nil && gateway == nil {
		return nil
	}
	if gateway == nil {
		return class.DeepCopy()
	}
	if class == nil {
		out := gateway.DeepCopy()
		out.GatewayOverrides = nil
		return out
	}
	out := class.DeepCopy()
	mergeStruct(reflect.ValueOf(out).Elem(), reflect.ValueOf(gateway.DeepCopy()).Elem())
	out.GatewayOverrides = class.GatewayOverrides.DeepCopy()
	if out.Workload != nil && gateway.Workload != nil {
		resolveWorkload(out.Workload, gateway.Workload)
	}
	if out.ACME != nil && gateway.ACME != nil {
		resolveACME(out.ACME, gateway.ACME)
	}
	return out
}

// resolveWorkload clears merged class-level fields that the Gateway level excludes.
func resolveWorkload(out, gw *v1alpha1.WorkloadSpec) {
	if gw.Replicas != nil && gw.Autoscaling == nil {
		out.Autoscaling = nil
	}
	if gw.Autoscaling != nil && gw.Replicas == nil {
		out.Replicas = nil
	}
	if gw.Kind != nil {
		switch *gw.Kind {
		case v1alpha1.WorkloadDaemonSet:
			out.Replicas, out.Strategy, out.Autoscaling = nil, nil, nil
		case v1alpha1.WorkloadDeployment:
			out.UpdateStrategy = nil
		}
	}
	if p := gw.PodDisruptionBudget; p != nil {
		if p.MinAvailable != nil && p.MaxUnavailable == nil {
			out.PodDisruptionBudget.MaxUnavailable = nil
		}
		if p.MaxUnavailable != nil && p.MinAvailable == nil {
			out.PodDisruptionBudget.MinAvailable = nil
		}
	}
}

// resolveACME replaces the merged references of spec.acme by the Gateway level's own
// where it sets them: a key ID of one level with the MAC key of the other, or a CA name of
// one with the kind of the other, would name something neither level meant.
func resolveACME(out, gw *v1alpha1.ACMESpec) {
	if gw.ExternalAccountBinding != nil {
		out.ExternalAccountBinding = gw.ExternalAccountBinding.DeepCopy()
	}
	if gw.TrustedCARef != nil {
		out.TrustedCARef = gw.TrustedCARef.DeepCopy()
	}
}

// mergeStruct merges src into dst; src is a private copy, so its values can be moved.
func mergeStruct(dst, src reflect.Value) {
	for i := range dst.NumField() {
		d, s := dst.Field(i), src.Field(i)
		if s.IsZero() {
			continue
		}
		switch {
		case d.Kind() == reflect.Pointer && d.Type().Elem().Kind() == reflect.Struct &&
			d.Type().Elem().PkgPath() == apiPkgPath && !d.IsNil():
			mergeStruct(d.Elem(), s.Elem())
		case d.Kind() == reflect.Map && d.Type().Key().Kind() == reflect.String && !d.IsNil():
			iter := s.MapRange()
			for iter.Next() {
				d.SetMapIndex(iter.Key(), iter.Value())
			}
		case d.Type() == reflect.TypeFor[[]v1alpha1.Patch]():
			d.Set(reflect.AppendSlice(d, s))
		default:
			d.Set(s)
		}
	}
}
