package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
)

// translated counts the translations of each Gateway.
var translated = struct {
	sync.Mutex
	n map[types.NamespacedName]int
}{n: map[types.NamespacedName]int{}}

// Translations is how many times the Gateway key has been translated.
func Translations(key types.NamespacedName) int {
	translated.Lock()
	defer translated.Unlock()
	return translated.n[key]
}

// The tests' translation counts translations.
func init() {
	translateGateway = func(in translator.Input) translator.Output {
		translated.Lock()
		translated.n[client.ObjectKeyFromObject(in.Gateway)]++
		translated.Unlock()
		return translator.Translate(in)
	}
}

// emitted keeps the last configuration emitted for each Gateway.
var emitted = struct {
	sync.Mutex
	last map[types.NamespacedName][]byte
}{last: map[types.NamespacedName][]byte{}}

// LastEmitted is the JSON of the last configuration emitted for the Gateway key; nil
// before any.
func LastEmitted(key types.NamespacedName) []byte {
	emitted.Lock()
	defer emitted.Unlock()
	return emitted.last[key]
}

// The tests' emit records what it emits.
func init() {
	emitConfig = func(g *ir.Gateway, o emit.Options) (emit.Result, error) {
		res, err := emit.Emit(g, o)
		if err == nil {
			emitted.Lock()
			emitted.last[types.NamespacedName{Namespace: g.Namespace, Name: g.Name}] = res.JSON
			emitted.Unlock()
		}
		return res, err
	}
}

// NewSecretMetadataCache is newSecretMetadataCache, for the tests of controller_test.
var NewSecretMetadataCache = newSecretMetadataCache

// ReleasedStatus is releasedStatus, for the tests of controller_test.
var ReleasedStatus = releasedStatus

// WritePolicyStatuses is GatewayReconciler.writePolicyStatuses with the manager's client
// (it lists through the field indexes), reader and recorder, for the tests of
// controller_test.
func WritePolicyStatuses(ctx context.Context, mgr ctrl.Manager, controller gwapiv1.GatewayController, gw *gwapiv1.Gateway, statuses []translator.PolicyStatus) error {
	r := &GatewayReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: mgr.GetEventRecorder("caddy-gateway-operator"),
		ControllerName: controller, backendTLS: backendTLSAPIs{policies: true},
	}
	return r.writePolicyStatuses(ctx, gw, statuses)
}

// KeepMemos turns the Gateways' renderMemo on or off.
func KeepMemos(on bool) { memosOff.Store(!on) }

// BurstPace is burstPace, for the tests of the pace through the API server.
const BurstPace = burstPace
