package controller_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/controller"
	"github.com/caddy-gateway/operator/internal/translator"
)

// TestRouteBurstIsPaced creates a burst of routes through the API server and watches the
// Gateway's translations: while routes keep changing, each reconcile starts burstPace
// (100 ms) after the one before ended, so the burst is gathered into few translations,
// the last of which holds every route; and every route of the burst is Accepted in the
// end (the status writes held during the burst are let out).
func TestRouteBurstIsPaced(t *testing.T) {
	const routes, workers = 1000, 16
	const burstPace = controller.BurstPace
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{})

	began := time.Now()
	var mu sync.Mutex
	var n int          // translations of f's Gateway holding routes of the burst
	var full time.Time // when the first translation holding all of them started
	translations.watch(t, func(in *translator.Input) {
		if in.Gateway.Namespace != f.ns || len(in.HTTPRoutes) == 0 {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if full.IsZero() {
			n++
			if len(in.HTTPRoutes) == routes {
				full = time.Now()
			}
		}
	})

	createRoutes(t, f, routes, workers)
	eventually(t, waitTimeout, func() error {
		mu.Lock()
		defer mu.Unlock()
		if full.IsZero() {
			return fmt.Errorf("no translation held all %d routes yet", routes)
		}
		return nil
	})
	mu.Lock()
	took := full.Sub(began)
	mu.Unlock()
	// The pace allows one translation per burstPace while changes keep coming. A pause in
	// the creates (the API server is busy) ends the burst, and the changes after it are
	// reconciled at once until they pile up again; reconciles for other causes (the
	// Gateway's status, its fleet's objects) add a few. Twice the paced count, plus five
	// for the burst's start, allows those. Were the changes that arrive during the wait not
	// counted, a short reconcile after it would end the burst each time: 2.5 times the
	// paced count here.
	if limit := 2*int(took/burstPace) + 5; n > limit {
		t.Errorf("%d translations in the %v the burst of %d routes took to translate; want at most %d (two per %v, and five)", n, took.Round(time.Millisecond), routes, limit, burstPace)
	}
	t.Logf("%d routes created by %d workers: %d translations in %v", routes, workers, n, took.Round(time.Millisecond))

	eventually(t, waitTimeout, func() error {
		var list gwapiv1.HTTPRouteList
		if err := k8s.List(context.Background(), &list, client.InNamespace(f.ns)); err != nil {
			return err
		}
		accepted := 0
		for _, rt := range list.Items {
			if slices.ContainsFunc(rt.Status.Parents, func(p gwapiv1.RouteParentStatus) bool {
				return meta.IsStatusConditionTrue(p.Conditions, string(gwapiv1.RouteConditionAccepted))
			}) {
				accepted++
			}
		}
		if accepted < routes {
			return fmt.Errorf("%d of %d routes Accepted", accepted, routes)
		}
		return nil
	})
}

// createRoutes creates n HTTPRoutes attached to f's Gateway, one hostname each, with
// workers creating at once; they are deleted when the test ends.
func createRoutes(t *testing.T, f *fixture, n, workers int) {
	t.Helper()
	t.Cleanup(func() {
		if err := k8s.DeleteAllOf(context.Background(), &gwapiv1.HTTPRoute{}, client.InNamespace(f.ns)); err != nil {
			t.Errorf("deleting the routes of %s: %v", f.ns, err)
		}
	})
	names := make(chan string, n)
	for i := range n {
		names <- fmt.Sprintf("burst-%d", i)
	}
	close(names)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for name := range names {
				errs <- k8s.Create(ctxFor(t), hostRoute(f.ns, f.gateway.Name, name))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("creating the routes: %v", err)
		}
	}
}
