package gatewaysecrets

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	corev1 "k8s.io/api/core/v1"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

// Store puts value at key in the key's Secret.
func (s *Storage) Store(ctx context.Context, key string, value []byte) error {
	rec := acmestore.Record{Key: key, Modified: time.Now(), Value: value}.Encode()
	dk := acmestore.DataKey(key)
	err := s.updateSecret(ctx, acmestore.Shard(key), func(data map[string][]byte) bool {
		data[dk] = rec
		return true
	})
	if err != nil {
		return fmt.Errorf("storing %q: %w", key, err)
	}
	return nil
}

// Load returns the value at key, or an error wrapping fs.ErrNotExist.
func (s *Storage) Load(ctx context.Context, key string) ([]byte, error) {
	rec, err := s.file(ctx, key)
	if err != nil {
		return nil, err
	}
	return rec.Value, nil
}

// Stat describes key: a file, or a directory when it is a prefix of stored keys.
func (s *Storage) Stat(ctx context.Context, key string) (certmagic.KeyInfo, error) {
	home := acmestore.Shard(key)
	sec, err := s.getSecret(ctx, home)
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	if rec, ok := fileIn(sec, key); ok {
		return certmagic.KeyInfo{Key: key, Modified: rec.Modified, Size: int64(len(rec.Value)), IsTerminal: true}, nil
	}
	// Not a file: a directory when a key below it is in any Secret.
	others, err := s.readSecrets(ctx, func(i int) bool { return i != home })
	if err != nil {
		return certmagic.KeyInfo{}, err
	}
	info := certmagic.KeyInfo{Key: key}
	found := false
	for _, r := range records(append(others, sec)) {
		if under(r.Key, key) {
			found = true
			info.Modified = later(info.Modified, r.Modified)
		}
	}
	if !found {
		return certmagic.KeyInfo{}, notExist(key)
	}
	return info, nil
}

// Exists reports whether key is a file or a directory.
func (s *Storage) Exists(ctx context.Context, key string) bool {
	_, err := s.Stat(ctx, key)
	return err == nil
}

// Delete removes key and every key under it; a missing key is not an error.
func (s *Storage) Delete(ctx context.Context, key string) error {
	for i := range s.cfg.Secrets {
		err := s.updateSecret(ctx, i, func(data map[string][]byte) bool {
			changed := false
			for dk, v := range data {
				r, ok := decode(dk, v)
				if ok && (r.Key == key || under(r.Key, key)) {
					delete(data, dk)
					changed = true
				}
			}
			return changed
		})
		if err != nil {
			return fmt.Errorf("deleting %q: %w", key, err)
		}
	}
	return nil
}

// List returns the keys under prefix: its children, or with recursive every file and
// directory below it, as certmagic's file storage walks them. A prefix that is neither a
// file nor a directory gives an error wrapping fs.ErrNotExist.
func (s *Storage) List(ctx context.Context, prefix string, recursive bool) ([]string, error) {
	all, err := s.readAll(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	isFile := false
	for _, r := range all {
		if r.Key == prefix {
			isFile = true
			continue
		}
		rel, ok := relative(r.Key, prefix)
		if !ok {
			continue
		}
		parts := strings.Split(rel, "/")
		if !recursive {
			parts = parts[:1]
		}
		for j := range parts {
			seen[join(prefix, strings.Join(parts[:j+1], "/"))] = true
		}
	}
	if len(seen) == 0 && !isFile {
		return nil, notExist(prefix)
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, nil
}

// file reads the record of key from its Secret.
func (s *Storage) file(ctx context.Context, key string) (acmestore.Record, error) {
	sec, err := s.getSecret(ctx, acmestore.Shard(key))
	if err != nil {
		return acmestore.Record{}, err
	}
	r, ok := fileIn(sec, key)
	if !ok {
		return acmestore.Record{}, notExist(key)
	}
	return r, nil
}

// fileIn returns the record of key in sec.
func fileIn(sec *corev1.Secret, key string) (acmestore.Record, bool) {
	dk := acmestore.DataKey(key)
	r, ok := decode(dk, sec.Data[dk])
	return r, ok && r.Key == key
}

// readAll reads the records of every Secret.
func (s *Storage) readAll(ctx context.Context) ([]acmestore.Record, error) {
	secrets, err := s.readSecrets(ctx, func(int) bool { return true })
	if err != nil {
		return nil, err
	}
	return records(secrets), nil
}

// readSecrets reads the Secrets whose index pick selects, all at once.
func (s *Storage) readSecrets(ctx context.Context, pick func(int) bool) ([]*corev1.Secret, error) {
	secrets := make([]*corev1.Secret, len(s.cfg.Secrets))
	errs := make([]error, len(s.cfg.Secrets))
	var wg sync.WaitGroup
	for i := range s.cfg.Secrets {
		if pick(i) {
			wg.Go(func() { secrets[i], errs[i] = s.getSecret(ctx, i) })
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(secrets, func(sec *corev1.Secret) bool { return sec == nil }), nil
}

// records decodes the records of secrets.
func records(secrets []*corev1.Secret) []acmestore.Record {
	var out []acmestore.Record
	for _, sec := range secrets {
		for dk, v := range sec.Data {
			if r, ok := decode(dk, v); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// decode returns the record of a data entry the storage wrote.
func decode(dataKey string, value []byte) (acmestore.Record, bool) {
	if value == nil || !acmestore.IsDataKey(dataKey) {
		return acmestore.Record{}, false
	}
	r, err := acmestore.DecodeRecord(value)
	if err != nil || acmestore.DataKey(r.Key) != dataKey {
		return acmestore.Record{}, false
	}
	return r, true
}

// under reports whether key is below the directory dir.
func under(key, dir string) bool {
	_, ok := relative(key, dir)
	return ok && key != dir
}

// relative returns key's path below dir ("" is the root).
func relative(key, dir string) (string, bool) {
	if dir == "" {
		return key, key != ""
	}
	return strings.CutPrefix(key, dir+"/")
}

// join joins a directory and a relative path.
func join(dir, rel string) string {
	if dir == "" {
		return rel
	}
	return dir + "/" + rel
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// notExist is the error of a missing key.
func notExist(key string) error {
	return fmt.Errorf("storage key %q: %w", key, fs.ErrNotExist)
}
