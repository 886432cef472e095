package translator

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/status"
)

// kindBackendTLSPolicy is the kind of the policies in Output.Policies.
const kindBackendTLSPolicy = "BackendTLSPolicy"

// backendPolicies are the BackendTLSPolicies of the input by the Service ports they
// target. They are resolved before any route is checked and read-only afterwards, but
// for the seen marks, so that the helpers checking routes share them.
type backendPolicies struct {
	// byTarget holds the policies of each target, the one taking precedence first.
	byTarget map[policyTarget][]*policyState
	// all are the policies that target a Service, in input order.
	all []*policyState
}

// policyTarget is a Service, or one named port of it (section), a policy targets.
type policyTarget struct{ ns, service, section string }

// policyState is one BackendTLSPolicy as this translation applies it.
type policyState struct {
	p *gwapiv1.BackendTLSPolicy
	// tls is what the policy makes of the backends of its Service ports; nil when the
	// policy cannot be applied (then accepted says why).
	tls *ir.BackendTLS
	// accepted and acceptedMsg are the reason and message of its Accepted condition;
	// refs and refsMsg those of its ResolvedRefs condition.
	accepted    gwapiv1.PolicyConditionReason
	acceptedMsg string
	refs        gwapiv1.PolicyConditionReason
	refsMsg     string
	// conflictedBy names the policy that takes precedence over this one for one of its
	// targets; then its Accepted condition is False with reason Conflicted.
	conflictedBy string
	// seen is set once a backend of a route of this Gateway uses a Service port the
	// policy targets: the policy then gets an ancestor entry for the Gateway.
	seen atomic.Bool
}

// portPolicy is what the BackendTLSPolicies of one Service port decide for it.
type portPolicy struct {
	// applied is the policy that takes precedence for the port: one naming the port
	// (sectionName) before one naming the whole Service, then the oldest.
	applied *policyState
	// candidates are every policy that targets the port, applied included.
	candidates []*policyState
	// problem says, for a route, why applied cannot be applied; "" when it can.
	problem string
}

// buildBackendPolicies resolves every BackendTLSPolicy of the input that targets a
// Service; nil when there is none.
func (t *translation) buildBackendPolicies() *backendPolicies {
	if len(t.in.BackendTLSPolicies) == 0 {
		return nil
	}
	bp := &backendPolicies{byTarget: map[policyTarget][]*policyState{}}
	cas := caCache{}
	for i := range t.in.BackendTLSPolicies {
		p := &t.in.BackendTLSPolicies[i]
		targets := policyTargets(p)
		if len(targets) == 0 {
			continue
		}
		st := t.resolvePolicy(p, cas)
		bp.all = append(bp.all, st)
		for _, tg := range targets {
			bp.byTarget[tg] = append(bp.byTarget[tg], st)
		}
	}
	for tg, list := range bp.byTarget {
		slices.SortFunc(list, comparePolicyAge)
		for _, st := range list[1:] {
			if st.conflictedBy == "" {
				st.conflictedBy = fmt.Sprintf("BackendTLSPolicy %s/%s targets %s too and takes precedence (the oldest, then the "+
					"first by namespace/name, wins)", list[0].p.Namespace, list[0].p.Name, tg)
			}
		}
	}
	return bp
}

func (tg policyTarget) String() string {
	if tg.section == "" {
		return fmt.Sprintf("Service %s/%s", tg.ns, tg.service)
	}
	return fmt.Sprintf("Service %s/%s port %s", tg.ns, tg.service, tg.section)
}

// policyTargets are the distinct Services and Service ports p targets; targetRefs of
// other kinds attach to nothing this implementation serves.
func policyTargets(p *gwapiv1.BackendTLSPolicy) []policyTarget {
	var out []policyTarget
	for _, ref := range p.Spec.TargetRefs {
		if ref.Group != "" || ref.Kind != "Service" {
			continue
		}
		tg := policyTarget{ns: p.Namespace, service: string(ref.Name)}
		if ref.SectionName != nil {
			tg.section = string(*ref.SectionName)
		}
		if !slices.Contains(out, tg) {
			out = append(out, tg)
		}
	}
	return out
}

// comparePolicyAge orders policies for one target by precedence: the older creation
// timestamp, then namespace/name.
func comparePolicyAge(a, b *policyState) int {
	if c := a.p.CreationTimestamp.Compare(b.p.CreationTimestamp.Time); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(a.p.Namespace, b.p.Namespace), cmp.Compare(a.p.Name, b.p.Name))
}

// portPolicy is what the policies targeting port portName of Service ns/name decide;
// nil when none does.
func (t *translation) portPolicy(ns, name, portName string, port int32) *portPolicy {
	if t.policies == nil {
		return nil
	}
	var specific []*policyState
	if portName != "" {
		specific = t.policies.byTarget[policyTarget{ns, name, portName}]
	}
	general := t.policies.byTarget[policyTarget{ns, name, ""}]
	if len(specific)+len(general) == 0 {
		return nil
	}
	pp := &portPolicy{candidates: slices.Concat(specific, general)}
	pp.applied = pp.candidates[0]
	if a := pp.applied; a.tls == nil {
		pp.problem = fmt.Sprintf("Service %s/%s port %d: BackendTLSPolicy %s/%s cannot be applied (%s: %s), "+
			"so the backend gets no requests", ns, name, port, a.p.Namespace, a.p.Name, a.accepted, a.acceptedMsg)
	}
	return pp
}

// applyPolicy applies the BackendTLSPolicy of r's Service port, if any: it returns the
// TLS to speak to the backend, or makes r invalid when the policy cannot be applied, so
// that no request reaches the backend without the verification the policy asks for.
func (r *resolved) applyPolicy() *ir.BackendTLS {
	if r.policy == nil {
		return nil
	}
	// A policy of a port a route names gets its ancestor entry, even when the backend
	// is refused for another reason.
	for _, st := range r.policy.candidates {
		st.seen.Store(true)
	}
	if r.reason != "" {
		return nil
	}
	tls := r.policy.applied.tls
	if tls == nil {
		r.reason, r.msg = status.RouteReasonInvalidBackendTLSPolicy, r.policy.problem
	}
	return tls
}

// anyApplied reports whether a backend of this Gateway speaks TLS by a policy (then the
// Gateway's backend client certificate is needed); false for nil.
func (bp *backendPolicies) anyApplied() bool {
	if bp == nil {
		return false
	}
	for _, st := range bp.all {
		if st.tls != nil && st.seen.Load() {
			return true
		}
	}
	return false
}

// policyStatuses are this Gateway's ancestor entries of the policies its routes'
// backends use, sorted by namespace/name.
func (t *translation) policyStatuses() []PolicyStatus {
	if t.policies == nil {
		return nil
	}
	var out []PolicyStatus
	for _, st := range t.policies.all {
		if st.seen.Load() {
			out = append(out, t.policyStatus(st))
		}
	}
	slices.SortFunc(out, func(a, b PolicyStatus) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (t *translation) policyStatus(st *policyState) PolicyStatus {
	group, kind, ns := gwapiv1.Group(gatewayGroup), gwapiv1.Kind("Gateway"), gwapiv1.Namespace(t.gw.Namespace)
	accepted, msg := st.accepted, st.acceptedMsg
	if st.conflictedBy != "" {
		accepted, msg = gwapiv1.PolicyReasonConflicted, st.conflictedBy
	}
	gen := st.p.Generation
	return PolicyStatus{Kind: kindBackendTLSPolicy, Namespace: st.p.Namespace, Name: st.p.Name,
		Ancestor: gwapiv1.PolicyAncestorStatus{
			AncestorRef:    gwapiv1.ParentReference{Group: &group, Kind: &kind, Namespace: &ns, Name: gwapiv1.ObjectName(t.gw.Name)},
			ControllerName: t.in.ControllerName,
			Conditions: []metav1.Condition{
				status.PolicyAccepted(gen, accepted, msg),
				status.PolicyResolvedRefs(gen, st.refs, st.refsMsg),
			},
		}}
}

// joinProblems joins the messages of several problems of one field.
func joinProblems(msgs []string) string { return strings.Join(msgs, "; ") }
