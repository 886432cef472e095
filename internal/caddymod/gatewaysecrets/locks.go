package gatewaysecrets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// A lock name is held twice over: in this process by a per-name mutex, and across pods
// by the Lease of its shard, which this process takes when the first of its names on
// that shard is locked and gives back when the last is unlocked. Several names on one
// shard thus share the process's hold of the Lease instead of waiting for each other.

// nameLocks are the per-name mutexes; a held name maps to a channel closed on release.
type nameLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{}
}

// lock waits until name is free in this process and takes it.
func (n *nameLocks) lock(ctx context.Context, name string) error {
	for {
		ok, wait := n.tryLock(name)
		if ok {
			return nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tryLock takes name when it is free; otherwise it returns the channel closed when it
// is released.
func (n *nameLocks) tryLock(name string) (bool, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch, busy := n.held[name]; busy {
		return false, ch
	}
	n.held[name] = make(chan struct{})
	return true, nil
}

func (n *nameLocks) unlock(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.held[name]
	if ok {
		delete(n.held, name)
		close(ch)
	}
	return ok
}

func (n *nameLocks) holds(name string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.held[name]
	return ok
}

// shardLock is this process's hold of one Lease.
type shardLock struct {
	// sem serialises taking and giving back the Lease; refs and stop are guarded by it.
	sem  chan struct{}
	refs int
	// lost is set while another process holds the Lease this one still has holds of.
	lost atomic.Bool
	// stop ends the renewal of a held Lease; the renewer closes done when it returns.
	stop, done chan struct{}
}

// Lock takes the lock name, waiting while another process holds it and taking it over
// when its holder stopped renewing it for the lease duration.
func (s *Storage) Lock(ctx context.Context, name string) error {
	if err := s.names.lock(ctx, name); err != nil {
		return err
	}
	if err := s.acquireShard(ctx, acmestore.Shard(name), true); err != nil {
		s.names.unlock(name)
		return fmt.Errorf("locking %q: %w", name, err)
	}
	return nil
}

// TryLock takes the lock name when nobody holds it, without waiting.
func (s *Storage) TryLock(ctx context.Context, name string) (bool, error) {
	if ok, _ := s.names.tryLock(name); !ok {
		return false, nil
	}
	err := s.acquireShard(ctx, acmestore.Shard(name), false)
	if err != nil {
		s.names.unlock(name)
		if errors.Is(err, errHeld) {
			return false, nil
		}
		return false, fmt.Errorf("locking %q: %w", name, err)
	}
	return true, nil
}

// Unlock gives back the lock name.
func (s *Storage) Unlock(ctx context.Context, name string) error {
	if !s.names.unlock(name) {
		return fmt.Errorf("unlocking %q: it is not locked by this process", name)
	}
	if err := s.releaseShard(ctx, acmestore.Shard(name)); err != nil {
		return fmt.Errorf("unlocking %q: %w", name, err)
	}
	return nil
}

// RenewLockLease renews the Lease holding name now and fails when another process holds
// it (it took the lock over while this one did not renew it in time); a lock taken over
// and released since is claimed again. certmagic renews before each attempt of an order,
// so an attempt never runs while another process holds the lock. The Lease is renewed
// all along while held, so the duration certmagic asks for is not needed.
func (s *Storage) RenewLockLease(ctx context.Context, name string, _ time.Duration) error {
	if !s.names.holds(name) {
		return fmt.Errorf("renewing the lock %q: it is not locked by this process", name)
	}
	i := acmestore.Shard(name)
	ok, err := s.claimLease(ctx, i)
	if err != nil {
		return fmt.Errorf("renewing the lock %q: %w", name, err)
	}
	s.shards[i].lost.Store(!ok)
	if !ok {
		return fmt.Errorf("renewing the lock %q: Lease %s/%s was taken over by another holder", name, s.cfg.Namespace, s.cfg.Leases[i])
	}
	return nil
}

// errHeld is the error of a TryLock whose Lease another process holds.
var errHeld = errors.New("lock held by another process")

// acquireShard adds a hold of the i-th Lease, taking it first when this process does
// not hold it (or lost it); with wait it waits until it is free, otherwise it fails with
// errHeld.
func (s *Storage) acquireShard(ctx context.Context, i int, wait bool) error {
	sh := s.shards[i]
	select {
	case sh.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-sh.sem }()
	if sh.refs == 0 || sh.lost.Load() {
		if err := s.takeLease(ctx, i, wait); err != nil {
			return err
		}
		sh.lost.Store(false)
	}
	sh.refs++
	if sh.refs == 1 {
		sh.stop, sh.done = make(chan struct{}), make(chan struct{})
		go s.renew(i, sh.stop, sh.done)
	}
	return nil
}

// takeLease claims the i-th Lease, waiting while another process holds it when wait.
func (s *Storage) takeLease(ctx context.Context, i int, wait bool) error {
	for {
		ok, err := s.claimLease(ctx, i)
		if err != nil || ok {
			return err
		}
		if !wait {
			return errHeld
		}
		select {
		case <-time.After(s.retryInterval/2 + rand.N(s.retryInterval)):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// releaseShard drops a hold of the i-th Lease and gives the Lease back with the last.
func (s *Storage) releaseShard(ctx context.Context, i int) error {
	sh := s.shards[i]
	sh.sem <- struct{}{}
	defer func() { <-sh.sem }()
	sh.refs--
	if sh.refs > 0 {
		return nil
	}
	close(sh.stop)
	<-sh.done
	return s.releaseLease(ctx, i)
}

// renew renews the i-th Lease every third of the lease duration until stop closes.
func (s *Storage) renew(i int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(s.leaseDuration / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.leaseDuration/3)
		ok, err := s.claimLease(ctx, i)
		cancel()
		if err == nil {
			s.shards[i].lost.Store(!ok)
		}
		if err != nil || !ok {
			s.logger.Warn("Lock lease not renewed", zap.String("lease", s.cfg.Leases[i]),
				zap.Bool("takenOver", err == nil), zap.Error(err))
		}
	}
}

// claimLease makes this process the holder of the i-th Lease, or renews it when it is
// already. It reports false when another process holds it.
func (s *Storage) claimLease(ctx context.Context, i int) (bool, error) {
	lease, err := s.getLease(ctx, i)
	if err != nil {
		return false, err
	}
	now := time.Now()
	mine := ptr.Deref(lease.Spec.HolderIdentity, "") == s.holder
	if !mine && !expired(lease, now) {
		return false, nil
	}
	if !mine {
		lease.Spec.AcquireTime = &metav1.MicroTime{Time: now}
		lease.Spec.LeaseTransitions = ptr.To(ptr.Deref(lease.Spec.LeaseTransitions, 0) + 1)
	}
	lease.Spec.HolderIdentity = ptr.To(s.holder)
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(s.leaseDuration / time.Second))
	lease.Spec.RenewTime = &metav1.MicroTime{Time: now}
	_, err = s.leases.Update(ctx, lease, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return false, nil // another process wrote first; it may have taken the lock
	}
	if err != nil {
		return false, fmt.Errorf("writing lock Lease %s/%s: %w", s.cfg.Namespace, s.cfg.Leases[i], err)
	}
	return true, nil
}

// releaseLease clears the holder of the i-th Lease when it is still this process.
func (s *Storage) releaseLease(ctx context.Context, i int) error {
	for {
		lease, err := s.getLease(ctx, i)
		if err != nil {
			return err
		}
		if ptr.Deref(lease.Spec.HolderIdentity, "") != s.holder {
			return nil
		}
		lease.Spec.HolderIdentity = nil
		lease.Spec.RenewTime = nil
		_, err = s.leases.Update(ctx, lease, metav1.UpdateOptions{})
		if apierrors.IsConflict(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("releasing lock Lease %s/%s: %w", s.cfg.Namespace, s.cfg.Leases[i], err)
		}
		return nil
	}
}

// getLease reads the i-th lock Lease.
func (s *Storage) getLease(ctx context.Context, i int) (*coordinationv1.Lease, error) {
	name := s.cfg.Leases[i]
	lease, err := s.leases.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("lock Lease %s/%s: %w (the operator creates it with the Gateway's ACME storage and re-creates it when it is deleted)",
			s.cfg.Namespace, name, ErrObjectMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("reading lock Lease %s/%s: %w", s.cfg.Namespace, name, err)
	}
	return lease, nil
}

// expired reports whether nobody holds lease at now.
func expired(lease *coordinationv1.Lease, now time.Time) bool {
	if ptr.Deref(lease.Spec.HolderIdentity, "") == "" || lease.Spec.RenewTime == nil {
		return true
	}
	d := time.Duration(ptr.Deref(lease.Spec.LeaseDurationSeconds, 0)) * time.Second
	return now.After(lease.Spec.RenewTime.Add(d))
}
