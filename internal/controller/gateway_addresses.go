package controller

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/internal/status"
)

// addressReport is what a reconcile learnt about its Gateway's requested addresses.
type addressReport struct {
	// plan is the Gateway's address plan; nil when none was made (invalid parameters,
	// unsupported addresses): the status then lists what the Service serves.
	plan *infra.AddressPlan
	// refusal is the API server's answer to a Service address request it refused; the
	// Service, if there is one, keeps its previous addresses.
	refusal string
}

// Cluster IPs requested for a Gateway's Service are checked against the IPAddress objects
// the API server keeps for allocated cluster IPs.
// +kubebuilder:rbac:groups=networking.k8s.io,resources=ipaddresses,verbs=get

// applyService applies the Gateway's Service. When the API server refuses its address
// request (out of the Service CIDR, taken, forbidden by admission), the last good Service
// keeps serving with its previous addresses and the refusal is returned; a Service that
// never existed is not created. A new cluster IP is checked with a dry-run first, because
// changing it means deleting the Service. A refusal stands, without asking the API
// server again, while neither the rendered Service nor the live one changes
// (addressRefusals).
func (r *GatewayReconciler) applyService(ctx context.Context, gw *gwapiv1.Gateway, svc *corev1.Service, plan *infra.AddressPlan) (string, error) {
	gwKey := client.ObjectKeyFromObject(gw)
	if !plan.Requests() {
		r.addressRefusals.forget(gwKey)
		return "", r.apply(ctx, gw, svc)
	}
	var live corev1.Service
	err := r.Get(ctx, client.ObjectKeyFromObject(svc), &live)
	if client.IgnoreNotFound(err) != nil {
		return "", fmt.Errorf("reading Service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	exists := err == nil
	asked, err := serviceHash(svc)
	if err != nil {
		return "", err
	}
	if refusal, ok := r.addressRefusals.standing(gwKey, asked, live.ResourceVersion); ok {
		return refusal, r.keepService(ctx, gw, svc, &live, exists, plan)
	}
	refusal, err := r.requestAddresses(ctx, gw, svc, &live, exists, plan)
	if err == nil {
		r.addressRefusals.record(gwKey, asked, live.ResourceVersion, refusal)
	}
	return refusal, err
}

// requestAddresses applies the Service svc with the addresses it requests, probing a new
// cluster IP first (probeClusterIPs); on a refusal the live Service (when it exists)
// keeps its addresses (keepService) and the refusal is returned.
func (r *GatewayReconciler) requestAddresses(ctx context.Context, gw *gwapiv1.Gateway, svc, live *corev1.Service, exists bool, plan *infra.AddressPlan) (string, error) {
	if exists && len(plan.ClusterIPs) > 0 && !slices.Equal(live.Spec.ClusterIPs[:min(len(plan.ClusterIPs), len(live.Spec.ClusterIPs))], plan.ClusterIPs) {
		if refusal, err := r.probeClusterIPs(ctx, svc); err != nil || refusal != "" {
			if err != nil {
				return "", err
			}
			return refusal, r.keepService(ctx, gw, svc, live, exists, plan)
		}
	}
	err := r.apply(ctx, gw, svc)
	refusal, ok := addressRefusal(err)
	if !ok {
		return "", err
	}
	return refusal, r.keepService(ctx, gw, svc, live, exists, plan)
}

// keepService applies svc with the live Service's addresses, after its own were refused;
// a Service that does not exist is not created.
func (r *GatewayReconciler) keepService(ctx context.Context, gw *gwapiv1.Gateway, svc, live *corev1.Service, exists bool, plan *infra.AddressPlan) error {
	if !exists {
		return nil
	}
	keepLiveAddresses(svc, live, plan)
	return r.apply(ctx, gw, svc)
}

// probeClusterIPs asks the API server, in a dry run, whether a Service could be created
// with svc's cluster IPs; the answer is empty when it could.
func (r *GatewayReconciler) probeClusterIPs(ctx context.Context, svc *corev1.Service) (string, error) {
	probe := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{GenerateName: svc.Name + "-", Namespace: svc.Namespace, Labels: svc.Labels},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: svc.Spec.ClusterIP, ClusterIPs: svc.Spec.ClusterIPs,
			IPFamilyPolicy: svc.Spec.IPFamilyPolicy, IPFamilies: svc.Spec.IPFamilies, Selector: svc.Spec.Selector,
		},
	}
	for _, p := range svc.Spec.Ports {
		p.NodePort = 0
		probe.Spec.Ports = append(probe.Spec.Ports, p)
	}
	err := r.Create(ctx, probe, client.DryRunAll)
	if refusal, ok := addressRefusal(err); ok {
		return refusal, nil
	} else if err != nil {
		return "", err
	}
	// A dry run checks the Service CIDR but not whether the address is taken: the
	// IPAddress object the API server keeps for every allocated cluster IP says that.
	for _, ip := range svc.Spec.ClusterIPs {
		var held networkingv1.IPAddress
		err := r.APIReader.Get(ctx, types.NamespacedName{Name: canonicalIP(ip)}, &held)
		switch {
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		case err != nil:
			return "", fmt.Errorf("reading IPAddress %s: %w", ip, err)
		case held.Spec.ParentRef != nil && (held.Spec.ParentRef.Namespace != svc.Namespace || held.Spec.ParentRef.Name != svc.Name):
			ref := held.Spec.ParentRef
			return fmt.Sprintf("%s is already allocated to %s %s/%s", ip, ref.Resource, ref.Namespace, ref.Name), nil
		}
	}
	return "", nil
}

// canonicalIP is the name of the IPAddress object of ip.
func canonicalIP(ip string) string {
	if a, err := netip.ParseAddr(ip); err == nil {
		return a.String()
	}
	return ip
}

// addressRefusal says whether err is the API server refusing a Service as invalid or
// forbidden, and gives its message.
func addressRefusal(err error) (string, bool) {
	if err == nil || !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err) {
		return "", false
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return st.Status().Message, true
	}
	return err.Error(), true
}

// keepLiveAddresses puts the live Service's addresses back into the rendered one.
func keepLiveAddresses(svc, live *corev1.Service, plan *infra.AddressPlan) {
	svc.Spec.ClusterIP, svc.Spec.ClusterIPs = live.Spec.ClusterIP, live.Spec.ClusterIPs
	svc.Spec.IPFamilyPolicy, svc.Spec.IPFamilies = live.Spec.IPFamilyPolicy, live.Spec.IPFamilies
	svc.Spec.ExternalIPs, svc.Spec.LoadBalancerIP = live.Spec.ExternalIPs, live.Spec.LoadBalancerIP
	if plan.Annotation != "" {
		if v, ok := live.Annotations[plan.Annotation]; ok {
			svc.Annotations[plan.Annotation] = v
		} else {
			delete(svc.Annotations, plan.Annotation)
		}
	}
}

// addressStatus reads the Gateway's Service and measures it against the report: the
// addresses to list (ok false: leave status.addresses as it is, the Service is not in the
// cache yet and nothing was requested) and the conditions the addresses decide.
func (r *GatewayReconciler) addressStatus(ctx context.Context, gw *gwapiv1.Gateway, rep addressReport) (addrs []gwapiv1.GatewayStatusAddress, ok bool, conds []metav1.Condition, err error) {
	var svc corev1.Service
	key := types.NamespacedName{Namespace: gw.Namespace, Name: infra.NamesFor(gw.Name).Workload}
	err = r.Get(ctx, key, &svc)
	if client.IgnoreNotFound(err) != nil {
		return nil, false, nil, fmt.Errorf("reading the Service of Gateway %s/%s: %w", gw.Namespace, gw.Name, err)
	}
	live := &svc
	if err != nil {
		live = nil
	}
	plan := rep.plan
	if plan == nil {
		plan = &infra.AddressPlan{}
	}
	out := plan.Outcome(live, rep.refusal)
	if !out.Requested || rep.plan == nil {
		return out.Addresses, live != nil, nil, nil
	}
	var unserved []string
	reason := gwapiv1.GatewayReasonAddressNotAssigned
	for _, u := range out.Unsatisfied {
		unserved = append(unserved, u.Message)
		if u.Reason == gwapiv1.GatewayReasonAddressNotUsable {
			reason = u.Reason
		}
	}
	conds = append(conds, status.GatewayAddressesAssigned(gw.Generation, out.Served, unserved))
	if len(unserved) > 0 {
		conds = append(conds, status.GatewayNotProgrammed(gw.Generation, reason, strings.Join(unserved, "; ")))
	}
	return out.Addresses, true, conds, nil
}

// dropAddressConditions removes the conditions only a Gateway whose requested addresses
// were measured has.
func dropAddressConditions(conds *[]metav1.Condition) {
	meta.RemoveStatusCondition(conds, string(gwapiv1.GatewayConditionAddressesAssigned))
}

// routabilityMemo learns whether the installed Gateway CRD keeps status.addresses[].routability:
// the standard channel has no such field and the API server prunes it, so a status that
// carries it would differ from the stored one at every reconcile and be written again. Once
// a write comes back without the routability it sent, addresses are written without it
// (until the operator restarts, e.g. after the experimental CRDs are installed).
type routabilityMemo struct{ pruned atomic.Bool }

// fit returns addrs as the API server stores them.
func (m *routabilityMemo) fit(addrs []gwapiv1.GatewayStatusAddress) []gwapiv1.GatewayStatusAddress {
	if !m.pruned.Load() {
		return addrs
	}
	out := slices.Clone(addrs)
	for i := range out {
		out[i].Routability = nil
	}
	return out
}

// learn compares the addresses a status write sent with those the API server stored.
func (m *routabilityMemo) learn(sent, stored []gwapiv1.GatewayStatusAddress) {
	if len(sent) == 0 || len(sent) != len(stored) || sent[0].Routability == nil {
		return
	}
	if stored[0].Routability == nil {
		m.pruned.Store(true)
	}
}
