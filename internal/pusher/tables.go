package pusher

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// desired is a Config made ready to compare with what pods acknowledged.
type desired struct {
	cfg *Config
	// hashes is every host table's hash by its key.
	hashes map[caddyjson.HostKey]string
	// version identifies the frame and the host tables together; a failed push is retried
	// at once for another version.
	version string
	// replace is the delta that sends every host table as the whole set, encoded once
	// for all the pods of a push that need it.
	replace struct {
		once sync.Once
		body []byte
		err  error
	}
}

// replaceBody is the encoded delta of d's host tables as the whole set.
func (d *desired) replaceBody() ([]byte, error) {
	d.replace.once.Do(func() {
		d.replace.body, d.replace.err = json.Marshal(&caddyjson.TablesDelta{Replace: true, Set: d.cfg.Tables})
	})
	return d.replace.body, d.replace.err
}

// want checks c's host tables and indexes them.
func want(c *Config) (*desired, error) {
	d := &desired{cfg: c, hashes: make(map[caddyjson.HostKey]string, len(c.Tables))}
	for i := range c.Tables {
		t := &c.Tables[i]
		if t.Hash == "" {
			return nil, fmt.Errorf("config.tables[%d] (table %q, host %q): hash is empty", i, t.Table, t.Host)
		}
		if _, dup := d.hashes[t.Key()]; dup {
			return nil, fmt.Errorf("config.tables[%d]: table %q has host %q twice", i, t.Table, t.Host)
		}
		d.hashes[t.Key()] = t.Hash
	}
	// In the order given: the same tables in another order are another version, which
	// only costs a failed pod an early retry.
	// Hashed in one piece: thousands of small writes cost more than the hashing.
	b := make([]byte, 0, len(c.Hash)+len(c.Tables)*128)
	b = append(b, c.Hash...)
	for i := range c.Tables {
		t := &c.Tables[i]
		for _, s := range [...]string{t.Table, t.Host, t.Hash} {
			b = append(append(b, 0), s...)
		}
	}
	sum := sha256.Sum256(b)
	d.version = hex.EncodeToString(sum[:])
	return d, nil
}

// compareKeys orders host keys by table, then host, as a TablesState is sorted.
func compareKeys(a, b caddyjson.HostKey) int {
	return cmp.Or(cmp.Compare(a.Table, b.Table), cmp.Compare(a.Host, b.Host))
}

// ack is what one pod acknowledged. It is never changed in place once recorded.
type ack struct {
	// frame is the Config.Hash of the frame the pod runs, when framed.
	frame  string
	framed bool
	// tables is every host table the pod holds, by key, with its hash; nil when unknown
	// (it is then sent all of them as the whole set).
	tables map[caddyjson.HostKey]string
}

// runsFrame reports whether the pod runs d's frame.
func (a *ack) runsFrame(d *desired) bool { return a.framed && a.frame == d.cfg.Hash }

// runs reports whether the pod runs d's frame and holds exactly d's host tables.
func (a *ack) runs(d *desired) bool {
	return a.runsFrame(d) && a.tables != nil && maps.Equal(a.tables, d.hashes)
}

// diff is the host tables of d that a pod holding a.tables lacks or holds another version
// of, in d's order, and the keys it holds that d does not want, sorted.
func (a *ack) diff(d *desired) (set []caddyjson.HostTable, del []caddyjson.HostKey) {
	for _, t := range d.cfg.Tables {
		if h, ok := a.tables[t.Key()]; !ok || h != t.Hash {
			set = append(set, t)
		}
	}
	for k := range a.tables {
		if _, ok := d.hashes[k]; !ok {
			del = append(del, k)
		}
	}
	slices.SortFunc(del, compareKeys)
	return set, del
}

// applied is a after Caddy applied delta.
func (a ack) applied(delta *caddyjson.TablesDelta) ack {
	switch {
	case delta.Replace:
		a.tables = map[caddyjson.HostKey]string{}
	case a.tables == nil: // not known before, not known after
		return a
	default:
		a.tables = maps.Clone(a.tables)
	}
	for _, t := range delta.Set {
		a.tables[t.Key()] = t.Hash
	}
	for _, k := range delta.Delete {
		delete(a.tables, k)
	}
	return a
}

// unsure is a after delta failed in a way that leaves open whether Caddy applied it: the
// host tables it set may be held in either version, so they are recorded with no hash (no
// wanted one matches, so they are sent again, or deleted when no longer wanted); the ones
// it deleted are still held (they are deleted again); after a replace nothing is known.
func (a ack) unsure(delta *caddyjson.TablesDelta) ack {
	if delta.Replace || a.tables == nil {
		a.tables = nil
		return a
	}
	a.tables = maps.Clone(a.tables)
	for _, t := range delta.Set {
		a.tables[t.Key()] = ""
	}
	return a
}

// holding is a after Caddy refused the host tables of failed, each of which it holds in
// the version it names (none when it names none).
func (a ack) holding(failed []caddyjson.HostTableError) ack {
	if a.tables == nil {
		return a
	}
	a.tables = maps.Clone(a.tables)
	for _, f := range failed {
		if f.Held == "" {
			delete(a.tables, f.Key())
			continue
		}
		a.tables[f.Key()] = f.Held
	}
	return a
}
