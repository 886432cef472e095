package controller

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/status"
)

// programmedCondition is the Gateway's Programmed condition: True only when every Caddy
// pod that can take a push runs the current configuration.
func programmedCondition(gen int64, out configOutcome) metav1.Condition {
	p := out.push
	switch {
	case out.blocked != "":
		return status.GatewayNotProgrammed(gen, gwapiv1.GatewayReasonPending, out.blocked)
	case p.Total == 0:
		return status.GatewayNotProgrammed(gen, gwapiv1.GatewayReasonPending, "no Caddy pod is ready to be configured yet")
	case p.Programmed < p.Total:
		msg := fmt.Sprintf("%d/%d pods programmed", p.Programmed, p.Total)
		if errs := append(tableErrorTexts(p.TableErrors), p.Errors...); len(errs) > 0 {
			msg += ": " + strings.Join(errs, "; ")
		}
		return status.GatewayNotProgrammed(gen, gwapiv1.GatewayReasonPending, msg)
	}
	return status.GatewayProgrammed(gen, p.Programmed, p.Total)
}

// tableErrorTexts says of each host table some pods did not take which one it is, that
// those pods keep serving its last good routes, or serve it without the routes they
// refused (and everything else is served), and why.
func tableErrorTexts(errs []pusher.TableError) []string {
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		if len(e.Refused) > 0 {
			keys := make([]string, len(e.Refused))
			for i, r := range e.Refused {
				keys[i] = r.Key
			}
			out = append(out, fmt.Sprintf("host %q of route table %q was taken by %s without the routes of %s, which are not served: %s",
				e.Host, e.Table, strings.Join(e.Pods, ", "), strings.Join(keys, ", "), e.Error))
			continue
		}
		out = append(out, fmt.Sprintf("host %q of route table %q was not taken by %s, which keep serving its last good routes: %s",
			e.Host, e.Table, strings.Join(e.Pods, ", "), e.Error))
	}
	return out
}

// notProgrammedInvalid is the Programmed condition of a Gateway whose parameters are
// invalid: this generation is not programmed (the last good configuration keeps serving).
func notProgrammedInvalid(gen int64) metav1.Condition {
	return status.GatewayNotProgrammed(gen, gwapiv1.GatewayReasonInvalid,
		"the parameters are invalid (see Accepted); the last good configuration keeps serving")
}

// listenerStatuses combines the translation's listener statuses with the Programmed
// condition, keeping LastTransitionTime of conditions that did not change. An optional
// condition of ours (optionalListenerConditions) the translation no longer gives is
// removed.
func listenerStatuses(current, next []gwapiv1.ListenerStatus, programmed metav1.Condition) []gwapiv1.ListenerStatus {
	old := map[gwapiv1.SectionName][]metav1.Condition{}
	for _, l := range current {
		old[l.Name] = l.Conditions
	}
	out := make([]gwapiv1.ListenerStatus, 0, len(next))
	for _, l := range next {
		conds := append([]metav1.Condition(nil), old[l.Name]...)
		for _, typ := range optionalListenerConditions {
			if meta.FindStatusCondition(l.Conditions, typ) == nil {
				meta.RemoveStatusCondition(&conds, typ)
			}
		}
		lp := status.ListenerProgrammed(programmed, meta.IsStatusConditionTrue(l.Conditions, string(gwapiv1.ListenerConditionAccepted)))
		for _, c := range append(l.Conditions, lp) {
			c.ObservedGeneration = programmed.ObservedGeneration
			meta.SetStatusCondition(&conds, c)
		}
		l.Conditions = conds
		out = append(out, l)
	}
	return out
}

// optionalListenerConditions are the listener condition types the translation gives
// only to some listeners: they are ours, never foreign, when a listener lacks them.
var optionalListenerConditions = []string{status.ListenerConditionAutomaticCertificates}

// keepForeignListenerConditions adds to ours the conditions of current's listeners whose
// types ours lack: conditions other controllers wrote since ours were computed (never an
// optional condition of ours, which ours lack because it no longer applies).
func keepForeignListenerConditions(ours, current []gwapiv1.ListenerStatus) []gwapiv1.ListenerStatus {
	if ours == nil {
		return nil
	}
	byName := map[gwapiv1.SectionName][]metav1.Condition{}
	for _, l := range current {
		byName[l.Name] = l.Conditions
	}
	out := make([]gwapiv1.ListenerStatus, len(ours))
	for i, l := range ours {
		l.Conditions = append([]metav1.Condition(nil), l.Conditions...)
		for _, c := range byName[l.Name] {
			if meta.FindStatusCondition(l.Conditions, c.Type) == nil && !slices.Contains(optionalListenerConditions, c.Type) {
				l.Conditions = append(l.Conditions, c)
			}
		}
		out[i] = l
	}
	return out
}
