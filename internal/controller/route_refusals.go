package controller

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/caddyjson"
	"github.com/caddy-gateway/operator/internal/pusher"
	"github.com/caddy-gateway/operator/internal/status"
	"github.com/caddy-gateway/operator/internal/translator"
)

// withRefusals is statuses with the accepted parent entries of every route whose rules
// Caddy pods left out of a host table (pusher.TableError.Refused) made Accepted=False,
// reason UnsupportedValue, naming the host table, the pods and Caddy's error: those pods
// serve the host table without the route, so the route is not served there. The other
// routes' entries, of the same host tables too, are those of statuses. statuses and its
// conditions are not changed; without refusals it is returned as is.
func withRefusals(statuses []translator.RouteStatus, errs []pusher.TableError) []translator.RouteStatus {
	why := refusalTexts(errs)
	if len(why) == 0 {
		return statuses
	}
	out := slices.Clone(statuses)
	for i := range out {
		msgs := why[caddyjson.RouteSourceKey(out[i].Kind, out[i].Namespace, out[i].Name)]
		if len(msgs) == 0 {
			continue
		}
		out[i].Parents = refusedParents(out[i].Parents, strings.Join(msgs, "; "))
	}
	return out
}

// refusalTexts says, by route key, which host tables left the route out, on which pods,
// and why.
func refusalTexts(errs []pusher.TableError) map[string][]string {
	var why map[string][]string
	for _, e := range errs {
		for _, r := range e.Refused {
			if why == nil {
				why = map[string][]string{}
			}
			why[r.Key] = append(why[r.Key], fmt.Sprintf(
				"Caddy did not take the route's rules for host %q of route table %q and serves it without them on %s: %s",
				e.Host, e.Table, strings.Join(e.Pods, ", "), r.Error))
		}
	}
	return why
}

// refusedParents is parents with each accepted entry's Accepted condition replaced by
// one saying msg; entries not accepted are attached nowhere and stay as they are.
func refusedParents(parents []gwapiv1.RouteParentStatus, msg string) []gwapiv1.RouteParentStatus {
	out := make([]gwapiv1.RouteParentStatus, len(parents))
	for i, p := range parents {
		accepted := meta.FindStatusCondition(p.Conditions, string(gwapiv1.RouteConditionAccepted))
		if accepted != nil && accepted.Status == metav1.ConditionTrue {
			p.Conditions = slices.Clone(p.Conditions)
			meta.SetStatusCondition(&p.Conditions, status.RouteAccepted(accepted.ObservedGeneration, gwapiv1.RouteReasonUnsupportedValue, msg))
		}
		out[i] = p
	}
	return out
}
