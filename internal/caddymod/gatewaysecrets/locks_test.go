package gatewaysecrets

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// lockAsync locks name in s in the background; the channel gets Lock's error.
func lockAsync(ctx context.Context, s *Storage, name string) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.Lock(ctx, name) }()
	return ch
}

// holder returns the holder of the Lease of the lock name.
func holder(t *testing.T, cfg acmestore.StorageConfig, name string) string {
	t.Helper()
	l, err := admin.CoordinationV1().Leases(cfg.Namespace).Get(context.Background(), cfg.Leases[acmestore.Shard(name)], metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}

func TestTwoReplicasContendForOneLock(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	a, b := replica(t, cfg, "pod-a/1", nil), replica(t, cfg, "pod-b/1", nil)
	name := "issue_cert_a.example.com"
	must(t, a.Lock(ctx, name))
	if got := holder(t, cfg, name); got != "pod-a/1" {
		t.Fatalf("Lease holder %q, want pod-a/1", got)
	}
	if ok, err := b.TryLock(ctx, name); ok || err != nil {
		t.Fatalf("TryLock by the other replica = %v, %v; want false", ok, err)
	}
	got := lockAsync(ctx, b, name)
	// Longer than the lease duration: a renewed lock is not taken over.
	select {
	case err := <-got:
		t.Fatalf("the other replica got the held lock: %v", err)
	case <-time.After(3 * time.Second):
	}
	must(t, a.RenewLockLease(ctx, name, time.Minute))
	unlocked := time.Now()
	must(t, a.Unlock(ctx, name))
	must(t, <-got)
	t.Logf("the waiting replica got the lock %v after Unlock", time.Since(unlocked))
	if got := holder(t, cfg, name); got != "pod-b/1" {
		t.Fatalf("Lease holder %q, want pod-b/1", got)
	}
	must(t, b.Unlock(ctx, name))
	if got := holder(t, cfg, name); got != "" {
		t.Fatalf("Lease holder %q after Unlock, want none", got)
	}
}

func TestDeadHolderIsTakenOver(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	dead, b := replica(t, cfg, "pod-dead/1", nil), replica(t, cfg, "pod-b/1", nil)
	name := "issue_cert_a.example.com"
	must(t, dead.Lock(ctx, name))
	// The pod dies: its renewals stop and it never unlocks.
	sh := dead.shards[acmestore.Shard(name)]
	close(sh.stop)
	<-sh.done
	died := time.Now()
	must(t, b.Lock(ctx, name))
	waited := time.Since(died)
	if waited < time.Second {
		t.Errorf("a live holder's lock was taken after %v; the lease lasts 2s", waited)
	}
	t.Logf("a dead holder's lock was taken over after %v (lease 2s)", waited)
	if got := holder(t, cfg, name); got != "pod-b/1" {
		t.Fatalf("Lease holder %q, want pod-b/1", got)
	}
	err := dead.RenewLockLease(ctx, name, time.Minute)
	if err == nil || !strings.Contains(err.Error(), "taken over") {
		t.Errorf("RenewLockLease by the holder that lost the lock: %v; want an error saying it was taken over", err)
	}
	// Once the other released it, the next renewal (certmagic's next attempt) claims it again.
	must(t, b.Unlock(ctx, name))
	must(t, dead.RenewLockLease(ctx, name, time.Minute))
	if got := holder(t, cfg, name); got != "pod-dead/1" {
		t.Fatalf("Lease holder %q after the renewal, want pod-dead/1", got)
	}
}

func TestNamesOnOneShardDoNotDeadlock(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	a, b := replica(t, cfg, "pod-a/1", nil), replica(t, cfg, "pod-b/1", nil)
	first := "issue_cert_a.example.com"
	second := sameShard(first, "issue_cert_b")
	third := sameShard(first, "issue_cert_c")
	lockCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	must(t, a.Lock(lockCtx, first))
	must(t, a.Lock(lockCtx, second))
	// The same name twice in one process waits for its Unlock.
	again := lockAsync(ctx, a, first)
	other := lockAsync(ctx, b, third)
	select {
	case err := <-again:
		t.Fatalf("a held name was locked again: %v", err)
	case err := <-other:
		t.Fatalf("another replica locked a name of a held shard: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	must(t, a.Unlock(ctx, first))
	must(t, <-again)
	must(t, a.Unlock(ctx, second))
	if got := holder(t, cfg, first); got != "pod-a/1" {
		t.Fatalf("Lease holder %q while pod-a still holds a name on it", got)
	}
	select {
	case err := <-other:
		t.Fatalf("another replica locked a name of a held shard: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	must(t, a.Unlock(ctx, first))
	must(t, <-other)
	must(t, b.Unlock(ctx, third))
	if err := a.Unlock(ctx, first); err == nil {
		t.Error("Unlock of a name not locked succeeded")
	}
}

func TestLockHonoursContext(t *testing.T) {
	cfg := fixture(t)
	a, b := replica(t, cfg, "pod-a/1", nil), replica(t, cfg, "pod-b/1", nil)
	must(t, a.Lock(ctxT(t, time.Minute), "n"))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := b.Lock(ctx, "n"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock past its context: %v", err)
	}
	// The failed Lock left nothing held: the name is free in b's process.
	must(t, a.Unlock(ctxT(t, time.Minute), "n"))
	must(t, b.Lock(ctxT(t, time.Minute), "n"))
}

// TestLostLeaseIsNotShared has another process take a Lease over while this one holds a
// name on it (it stalled past the lease): a further name on that Lease waits for the
// Lease instead of trusting the lost hold.
func TestLostLeaseIsNotShared(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	a := replica(t, cfg, "pod-a/1", nil)
	first := "issue_cert_a.example.com"
	second := sameShard(first, "issue_cert_b")
	must(t, a.Lock(ctx, first))
	leases := admin.CoordinationV1().Leases(cfg.Namespace)
	lease, err := leases.Get(ctx, cfg.Leases[acmestore.Shard(first)], metav1.GetOptions{})
	must(t, err)
	lease.Spec.HolderIdentity = ptr.To("pod-b/1")
	lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
	must(t, err)
	time.Sleep(time.Second) // a's renewal (every 2s/3) finds the Lease taken over
	start := time.Now()
	must(t, a.Lock(ctx, second))
	if waited := time.Since(start); waited < 500*time.Millisecond {
		t.Fatalf("a name on a lost Lease was locked after %v, before pod-b/1's lease (2s) ran out", waited)
	}
	if got := holder(t, cfg, second); got != "pod-a/1" {
		t.Fatalf("Lease holder %q, want pod-a/1 again", got)
	}
	must(t, a.Unlock(ctx, second))
	must(t, a.Unlock(ctx, first))
}
