package gatewaysecrets

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// TestKeysBehaveAsFileStorage runs the same operations on the cluster storage and on
// certmagic's file storage and compares every answer.
func TestKeysBehaveAsFileStorage(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	ours := replica(t, fixture(t), "pod-a/1", nil)
	file := &certmagic.FileStorage{Path: t.TempDir()}
	stores := []certmagic.Storage{ours, file}
	keys := map[string]string{
		"certificates/acme-v02.api.letsencrypt.org-directory/a.example.com/a.example.com.crt":           "crt",
		"certificates/acme-v02.api.letsencrypt.org-directory/a.example.com/a.example.com.key":           "key",
		"certificates/acme-v02.api.letsencrypt.org-directory/wildcard_.example.com/x.json":              "{}",
		"acme/acme-v02.api.letsencrypt.org-directory/users/admin@example.com/admin.json":                "user",
		"acme/acme-v02.api.letsencrypt.org-directory/challenge_tokens/a.example.com.json":               "token",
		"ocsp/" + strings.Repeat(strings.Repeat("0123456789abcdef", 4)+"/", 5) + "a.example.com-staple": "long",
		"empty": "",
	}
	for _, s := range stores {
		for k, v := range keys {
			if err := s.Store(ctx, k, []byte(v)); err != nil {
				t.Fatalf("%T Store(%q): %v", s, k, err)
			}
		}
	}
	same := func(op string, f func(certmagic.Storage) any) {
		t.Helper()
		a, b := f(ours), f(file)
		if !equal(a, b) {
			t.Errorf("%s: ours %#v, file storage %#v", op, a, b)
		}
	}
	probes := []string{"", "certificates", "certificates/acme-v02.api.letsencrypt.org-directory",
		"certificates/acme-v02.api.letsencrypt.org-directory/a.example.com/a.example.com.crt",
		"acme", "acme/acme-v02.api.letsencrypt.org-directory/users", "empty", "missing", "certificates/acme-v0", "ocsp"}
	check := func() {
		t.Helper()
		for k := range keys {
			same("Load "+k, func(s certmagic.Storage) any { v, err := s.Load(ctx, k); return result(string(v), err) })
		}
		for _, p := range probes {
			if p != "" {
				same("Exists "+p, func(s certmagic.Storage) any { return s.Exists(ctx, p) })
				same("Stat "+p, func(s certmagic.Storage) any {
					ki, err := s.Stat(ctx, p)
					if !ki.IsTerminal {
						ki.Size = 0 // a directory's size is the file system's
					}
					return result([3]any{ki.Key, ki.Size, ki.IsTerminal}, err)
				})
			}
			for _, rec := range []bool{false, true} {
				same("List "+p, func(s certmagic.Storage) any { l, err := s.List(ctx, p, rec); slices.Sort(l); return result(l, err) })
			}
		}
	}
	check()
	// Overwrite, delete a file, a directory, and a key that is not there.
	for _, s := range stores {
		must(t, s.Store(ctx, "empty", []byte("now full")))
		must(t, s.Delete(ctx, "certificates/acme-v02.api.letsencrypt.org-directory/a.example.com/a.example.com.key"))
		must(t, s.Delete(ctx, "acme"))
		must(t, s.Delete(ctx, "missing/key"))
	}
	keys["empty"] = "now full"
	check()
	if ki, err := ours.Stat(ctx, "empty"); err != nil || time.Since(ki.Modified) > time.Minute || ki.Size != int64(len("now full")) {
		t.Errorf("Stat(empty) = %+v, %v: want a recent modification time and size 8", ki, err)
	}
}

// result folds a value and an error into a comparable value: the error only as whether
// it says the key does not exist.
func result(v any, err error) any {
	if err != nil {
		return [2]any{"error", errors.Is(err, fs.ErrNotExist)}
	}
	return v
}

func equal(a, b any) bool {
	as, aok := a.([]string)
	bs, bok := b.([]string)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreRetriesOnConflict shows a write that lost the race to another replica's write
// of the same Secret being applied again on the fresh Secret, keeping both.
func TestStoreRetriesOnConflict(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	a, b := replica(t, cfg, "pod-a/1", nil), replica(t, cfg, "pod-b/1", nil)
	key := "certificates/x/a.example.com/a.example.com.crt"
	other := sameShard(key, "other/")
	attempts := 0
	a.beforeUpdate = func(string) {
		attempts++
		if attempts == 1 {
			must(t, b.Store(ctx, other, []byte("b's")))
		}
	}
	must(t, a.Store(ctx, key, []byte("a's")))
	if attempts != 2 {
		t.Errorf("Store took %d attempts, want 2 (one conflict)", attempts)
	}
	for k, want := range map[string]string{key: "a's", other: "b's"} {
		if v, err := b.Load(ctx, k); err != nil || string(v) != want {
			t.Errorf("Load(%q) = %q, %v; want %q", k, v, err, want)
		}
	}
}

// sameShard returns a key starting with prefix on the shard of key.
func sameShard(key, prefix string) string {
	for i := 0; ; i++ {
		k := prefix + strings.Repeat("x", i)
		if acmestore.Shard(k) == acmestore.Shard(key) && k != key {
			return k
		}
	}
}

func TestMissingSecretIsNamed(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	s := replica(t, cfg, "pod-a/1", nil)
	key := "certificates/x/a.example.com/a.example.com.crt"
	name := cfg.Secrets[acmestore.Shard(key)]
	must(t, admin.CoreV1().Secrets(cfg.Namespace).Delete(ctx, name, metav1.DeleteOptions{}))
	_, loadErr := s.Load(ctx, key)
	storeErr := s.Store(ctx, key, []byte("x"))
	_, listErr := s.List(ctx, "certificates", true)
	for op, err := range map[string]error{"Load": loadErr, "Store": storeErr, "List": listErr} {
		if !errors.Is(err, ErrObjectMissing) || errors.Is(err, fs.ErrNotExist) ||
			!strings.Contains(err.Error(), cfg.Namespace+"/"+name) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("%s on a deleted Secret: %v; want an error naming %s/%s that is not fs.ErrNotExist", op, err, cfg.Namespace, name)
		}
	}
	if s.Exists(ctx, key) {
		t.Error("Exists on a deleted Secret is true")
	}
	lease := cfg.Leases[acmestore.Shard("issue_cert_a.example.com")]
	must(t, admin.CoordinationV1().Leases(cfg.Namespace).Delete(ctx, lease, metav1.DeleteOptions{}))
	err := s.Lock(ctx, "issue_cert_a.example.com")
	if !errors.Is(err, ErrObjectMissing) || !strings.Contains(err.Error(), "lock Lease "+cfg.Namespace+"/"+lease) {
		t.Errorf("Lock on a deleted Lease: %v; want an error naming %s/%s", err, cfg.Namespace, lease)
	}
	if ok, _ := s.TryLock(ctx, "issue_cert_a.example.com"); ok {
		t.Error("TryLock on a deleted Lease succeeded")
	}
}

func TestSizeLimitIsNamed(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	s := replica(t, cfg, "pod-a/1", nil)
	big := bytes.Repeat([]byte("c"), 600<<10)
	first := "certificates/x/a.example.com/a.example.com.crt"
	second := sameShard(first, "certificates/x/b/")
	must(t, s.Store(ctx, first, big))
	err := s.Store(ctx, second, big)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "over the 1048576 bytes a Secret can hold") ||
		!strings.Contains(err.Error(), cfg.Secrets[acmestore.Shard(first)]) || !strings.Contains(err.Error(), second) {
		t.Fatalf("Store over the limit: %v; want the size error naming the Secret and the key", err)
	}
	if s.Exists(ctx, second) {
		t.Error("the key over the limit was stored")
	}
	if v, err := s.Load(ctx, first); err != nil || len(v) != len(big) {
		t.Errorf("the first key was lost: %d bytes, %v", len(v), err)
	}
}

// TestConcurrentStoresAllLand has two replicas write many keys of one Secret at once:
// every write lands, none overwrites another.
func TestConcurrentStoresAllLand(t *testing.T) {
	ctx := ctxT(t, time.Minute)
	cfg := fixture(t)
	replicas := []*Storage{replica(t, cfg, "pod-a/1", nil), replica(t, cfg, "pod-b/1", nil)}
	var keys []string
	for i := range 32 {
		keys = append(keys, sameShard("acme/account.json", fmt.Sprintf("acme/k%d/", i)))
	}
	var wg sync.WaitGroup
	errs := make([]error, len(keys))
	for i, k := range keys {
		wg.Go(func() { errs[i] = replicas[i%2].Store(ctx, k, []byte(k)) })
	}
	wg.Wait()
	for i, k := range keys {
		if errs[i] != nil {
			t.Errorf("Store(%q): %v", k, errs[i])
			continue
		}
		if v, err := replicas[(i+1)%2].Load(ctx, k); err != nil || string(v) != k {
			t.Errorf("Load(%q) = %q, %v", k, v, err)
		}
	}
}
