//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

// restoreTimeout bounds how long a deleted object of a Gateway may stay missing.
const restoreTimeout = 30 * time.Second

// TestGatewayRestoresDeletedObjects deletes, one at a time, each object kept for a
// Gateway whose admin certificates cert-manager issues: the operator's fleet, its
// cert-manager Issuers and Certificates, and the admin Secrets cert-manager writes. Each
// must be back within restoreTimeout, without any change to the Gateway, and the Gateway
// Programmed again; a route added at the end proves the admin channel still carries
// configuration. Deleting the Gateway then takes the cert-manager objects with it.
func TestGatewayRestoresDeletedObjects(t *testing.T) {
	const gwName, host = "restore", "restore.example.com"
	class := envconf.RandomName("e2e-restore", 16)
	n := infra.NamesFor(gwName)
	// The admin objects live in the operator's namespace, under names that start with the
	// Gateway's namespace; only the server Secret copy is in the Gateway's.
	certManager := func(kind string, name func(certs.Names) string) func(ns string) client.Object {
		return func(ns string) client.Object {
			return certManagerObject(kind, utils.OperatorNamespace, name(certs.NamesFor(ns, gwName)), nil)
		}
	}
	admin := func(name func(certs.Names) string) func(ns string) client.Object {
		return func(ns string) client.Object {
			return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: utils.OperatorNamespace, Name: name(certs.NamesFor(ns, gwName))}}
		}
	}
	typed := func(name string, obj client.Object) func(ns string) client.Object {
		return func(ns string) client.Object {
			obj.SetNamespace(ns)
			obj.SetName(name)
			return obj
		}
	}
	selfSigned := func(n certs.Names) string { return n.SelfSignedIssuer }
	ca := func(n certs.Names) string { return n.CA }
	server := func(n certs.Names) string { return n.Server }
	clientCert := func(n certs.Names) string { return n.Client }
	trust := func(n certs.Names) string { return n.Trust }
	// In dependency order, and the admin Secrets with the CA last: a new CA (cert-manager
	// issues one when its Secret is gone) must not sign one leaf while the other still
	// chains to the old CA.
	deleted := []func(ns string) client.Object{
		typed(n.Workload, &appsv1.Deployment{}), typed(n.Workload, &corev1.Service{}),
		typed(n.Workload, &networkingv1.NetworkPolicy{}), typed(n.Workload, &corev1.ServiceAccount{}),
		typed(n.Bootstrap, &corev1.ConfigMap{}),
		certManager(certs.KindIssuer, selfSigned), certManager(certs.KindCertificate, ca),
		certManager(certs.KindIssuer, ca),
		certManager(certs.KindCertificate, server), certManager(certs.KindCertificate, clientCert),
		typed(certs.ServerSecret(gwName), &corev1.Secret{}),
		admin(server), admin(clientCert), admin(trust), admin(ca),
	}
	f := features.New("every object kept for a Gateway comes back when deleted").
		Setup(func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			createAll(ctx, t, c, append(utils.EchoBackend(ns, "restore-echo"),
				onePodParams(ns, gwName),
				gatewayClass(class, ns, gwName), httpGateway(ns, gwName, class),
				catchAllRoute(ns, "restore", gwName, host, "restore-echo"))...)
			allReady(ctx, t, c, ns, gwName, 1)
			expect(ctx, t, joinPort(serviceIP(ctx, t, c, ns, gwName), listenerPort), host, "/", nil, 200, "backend=restore-echo")
			return ctx
		}).
		Assess("each deleted object is restored and the Gateway is Programmed again", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			var gw gwapiv1.Gateway
			if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: gwName}, &gw); err != nil {
				t.Fatal(err)
			}
			for _, obj := range deleted {
				o := obj(ns)
				took := deleteAndWaitRestored(ctx, t, c, o)
				t.Logf("%s restored after %v", describe(o), took.Round(time.Millisecond))
				allReady(ctx, t, c, ns, gwName, 1)
			}
			var after gwapiv1.Gateway
			if err := c.Get(ctx, client.ObjectKeyFromObject(&gw), &after); err != nil {
				t.Fatal(err)
			}
			if after.Generation != gw.Generation {
				t.Fatalf("the Gateway changed (generation %d → %d): the restoration must not need that", gw.Generation, after.Generation)
			}
			// A configuration change travels over the restored admin channel.
			createAll(ctx, t, c, catchAllRoute(ns, "restore-late", gwName, "late."+host, "restore-echo"))
			expect(ctx, t, joinPort(serviceIP(ctx, t, c, ns, gwName), listenerPort), "late."+host, "/", nil, 200, "backend=restore-echo")
			return ctx
		}).
		Assess("deleting the Gateway takes its admin objects with it", func(ctx context.Context, t *testing.T, cfg *envconf.Config) context.Context {
			c := cfg.Client().Resources().GetControllerRuntimeClient()
			ns := cfg.Namespace()
			deleteAll(ctx, t, c, httpGateway(ns, gwName, class))
			poll(ctx, t, "the Gateway's admin objects deleted", func(ctx context.Context) error {
				for _, obj := range deleted {
					o := obj(ns)
					if _, ok := o.(*unstructured.Unstructured); !ok && o.GetNamespace() == ns && o.GetName() != certs.ServerSecret(gwName) {
						continue // the fleet's removal is TestProvisioning's
					}
					if err := c.Get(ctx, client.ObjectKeyFromObject(o), o); err == nil {
						return fmt.Errorf("%s still exists", describe(o))
					} else if client.IgnoreNotFound(err) != nil {
						return err
					}
				}
				return nil
			})
			return ctx
		}).
		Feature()
	testenv.Test(t, f)
}

// deleteAndWaitRestored deletes obj once it exists and waits, at most restoreTimeout,
// until an object with another UID takes its place. It returns how long that took.
func deleteAndWaitRestored(ctx context.Context, t *testing.T, c client.Client, obj client.Object) time.Duration {
	t.Helper()
	key := client.ObjectKeyFromObject(obj)
	poll(ctx, t, describe(obj)+" exists", func(ctx context.Context) error { return c.Get(ctx, key, obj) })
	old := obj.GetUID()
	if err := c.Delete(ctx, obj); err != nil {
		t.Fatalf("deleting %s: %v", describe(obj), err)
	}
	start := time.Now()
	var last error
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, restoreTimeout, true, func(ctx context.Context) (bool, error) {
		last = c.Get(ctx, key, obj)
		if last == nil && obj.GetUID() == old {
			last = fmt.Errorf("still the deleted object (uid %s)", old)
		}
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s not restored within %v: %v", describe(obj), restoreTimeout, last)
	}
	return time.Since(start)
}

// describe is "Kind namespace/name" of obj.
func describe(obj client.Object) string {
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if kind == "" {
		kind = fmt.Sprintf("%T", obj)
	}
	return kind + " " + client.ObjectKeyFromObject(obj).String()
}
