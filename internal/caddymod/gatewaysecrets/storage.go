package gatewaysecrets

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"go.uber.org/zap"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// Defaults of Options.
const (
	DefaultLeaseDuration = 15 * time.Second
	DefaultRetryInterval = time.Second
)

// ErrObjectMissing is wrapped by the error of an operation on a storage Secret or lock
// Lease that does not exist.
var ErrObjectMissing = errors.New("storage object does not exist")

// ErrTooLarge is wrapped by the error of a Store that would take a Secret over
// acmestore.MaxSecretBytes.
var ErrTooLarge = errors.New("storage Secret size limit exceeded")

// Options configure a Storage.
type Options struct {
	// Config names the Secrets and Leases.
	Config acmestore.StorageConfig
	// REST connects to the API server.
	REST *rest.Config
	// Holder is this process's lock holder identity; default "<hostname>/<random>".
	Holder string
	// LeaseDuration is how long a lock outlives its holder's last renewal; default
	// DefaultLeaseDuration, whole seconds. Held locks are renewed every third of it.
	LeaseDuration time.Duration
	// RetryInterval is how often a lock held elsewhere is tried again; default
	// DefaultRetryInterval.
	RetryInterval time.Duration
	// Logger receives lock losses; default none.
	Logger *zap.Logger
}

// Storage is a certmagic.Storage on a Gateway's storage Secrets and lock Leases.
type Storage struct {
	cfg           acmestore.StorageConfig
	secrets       *typedClient[*corev1.Secret]
	leases        *typedClient[*coordinationv1.Lease]
	holder        string
	leaseDuration time.Duration
	retryInterval time.Duration
	logger        *zap.Logger
	names         nameLocks
	shards        [acmestore.Shards]*shardLock
	// writes serialize this process's updates of each Secret: they would only
	// conflict with each other, so retries are left for other replicas' writes.
	writes [acmestore.Shards]sync.Mutex

	// beforeUpdate, when set, runs between the read and the write of a Secret update.
	beforeUpdate func(secret string)
}

// New returns a Storage; it makes no request.
func New(o Options) (*Storage, error) {
	if err := validate(o.Config); err != nil {
		return nil, err
	}
	clients, err := newClients(o.REST, o.Config.Namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", acmestore.StorageModule, err)
	}
	s := &Storage{
		cfg:           o.Config,
		secrets:       clients.secrets,
		leases:        clients.leases,
		holder:        o.Holder,
		leaseDuration: o.LeaseDuration.Truncate(time.Second),
		retryInterval: o.RetryInterval,
		logger:        o.Logger,
		names:         nameLocks{held: map[string]chan struct{}{}},
	}
	if s.holder == "" {
		s.holder = defaultHolder()
	}
	if s.leaseDuration < time.Second {
		s.leaseDuration = DefaultLeaseDuration
	}
	if s.retryInterval <= 0 {
		s.retryInterval = DefaultRetryInterval
	}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	for i := range s.shards {
		s.shards[i] = &shardLock{sem: make(chan struct{}, 1)}
	}
	return s, nil
}

// defaultHolder is "<hostname>/<random>": the pod's name and this process's instance.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "caddy"
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return host + "/" + hex.EncodeToString(b)
}

// String names the storage (certmagic logs it and keys its caches by it).
func (s *Storage) String() string {
	return fmt.Sprintf("%s:%s/%v", acmestore.StorageModule, s.cfg.Namespace, s.cfg.Secrets)
}

// getSecret reads the i-th storage Secret.
func (s *Storage) getSecret(ctx context.Context, i int) (*corev1.Secret, error) {
	name := s.cfg.Secrets[i]
	sec, err := s.secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("storage Secret %s/%s: %w (the operator creates it with the Gateway's ACME storage and re-creates it when it is deleted)",
			s.cfg.Namespace, name, ErrObjectMissing)
	}
	if err != nil {
		return nil, fmt.Errorf("reading storage Secret %s/%s: %w", s.cfg.Namespace, name, err)
	}
	return sec, nil
}

// conflictBackoff spaces the retries of a Secret update that lost a race.
var conflictBackoff = wait.Backoff{Steps: 12, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.5, Cap: time.Second}

// updateSecret applies change to the i-th Secret's data and writes it back with the
// resourceVersion it read, again from a fresh read when another writer came first.
// change reports whether it changed anything; nothing is written when it did not.
func (s *Storage) updateSecret(ctx context.Context, i int, change func(map[string][]byte) bool) error {
	name := s.cfg.Secrets[i]
	s.writes[i].Lock()
	defer s.writes[i].Unlock()
	return retry.RetryOnConflict(conflictBackoff, func() error {
		sec, err := s.getSecret(ctx, i)
		if err != nil {
			return err
		}
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		if !change(sec.Data) {
			return nil
		}
		if n := acmestore.DataSize(sec.Data); n > acmestore.MaxSecretBytes {
			return fmt.Errorf("storage Secret %s/%s would hold %d bytes, over the %d bytes a Secret can hold: %w",
				s.cfg.Namespace, name, n, acmestore.MaxSecretBytes, ErrTooLarge)
		}
		if s.beforeUpdate != nil {
			s.beforeUpdate(name)
		}
		if _, err := s.secrets.Update(ctx, sec, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("writing storage Secret %s/%s: %w", s.cfg.Namespace, name, err)
		}
		return nil
	})
}

var (
	_ certmagic.Storage          = (*Storage)(nil)
	_ certmagic.TryLocker        = (*Storage)(nil)
	_ certmagic.LockLeaseRenewer = (*Storage)(nil)
)
