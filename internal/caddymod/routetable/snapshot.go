package routetable

import (
	"maps"
	"net/http"
	"strings"
)

// snapshot is what a handler serves from: its table's host groups, never changed once
// built (a change builds a new snapshot).
type snapshot struct {
	// exact holds the groups of exact hosts.
	exact map[string]*generation
	// wild holds the "*.suffix" groups by their suffix (".example.com").
	wild map[string]*generation
	// any is the group of any host, or nil.
	any *generation
}

// newSnapshot indexes gens, keyed by host table host (lower case).
func newSnapshot(gens map[string]*generation) *snapshot {
	s := &snapshot{exact: map[string]*generation{}, wild: map[string]*generation{}}
	for host, g := range gens {
		s.put(host, g)
	}
	return s
}

// with is a copy of s with the generations of set put in and the hosts of drop left
// out; it returns the generations no longer served. It copies the maps whole, which is
// far cheaper than indexing every host again.
func (s *snapshot) with(set map[string]*generation, drop []string) (*snapshot, []*generation) {
	n := &snapshot{exact: maps.Clone(s.exact), wild: maps.Clone(s.wild), any: s.any}
	var gone []*generation
	for _, host := range drop {
		if g := n.put(host, nil); g != nil {
			gone = append(gone, g)
		}
	}
	for host, g := range set {
		if old := n.put(host, g); old != nil {
			gone = append(gone, old)
		}
	}
	return n, gone
}

// put serves g (none when nil) for host and returns the generation it served before.
func (s *snapshot) put(host string, g *generation) *generation {
	m, key := s.exact, host
	switch {
	case host == "":
		old := s.any
		s.any = g
		return old
	case strings.HasPrefix(host, "*."):
		m, key = s.wild, host[1:]
	}
	old := m[key]
	if g == nil {
		delete(m, key)
	} else {
		m[key] = g
	}
	return old
}

// all calls f with every generation of s.
func (s *snapshot) all(f func(*generation)) {
	for _, g := range s.exact {
		f(g)
	}
	for _, g := range s.wild {
		f(g)
	}
	if s.any != nil {
		f(s.any)
	}
}

// groups appends to dst the groups to try for host, in order: the exact host, the
// wildcard groups whose suffix ends host after a non-empty prefix without ':' or '/',
// longest suffix first, then the group of any host. It costs one map lookup per label.
func (s *snapshot) groups(dst []*generation, host string) []*generation {
	if g := s.exact[host]; g != nil {
		dst = append(dst, g)
	}
	if len(s.wild) > 0 {
		for i := 0; i < len(host); i++ {
			switch c := host[i]; {
			case c == ':' || c == '/':
				return appendAny(dst, s.any)
			case c == '.' && i > 0:
				if g := s.wild[host[i:]]; g != nil {
					dst = append(dst, g)
				}
			}
		}
	}
	return appendAny(dst, s.any)
}

func appendAny(dst []*generation, g *generation) []*generation {
	if g != nil {
		dst = append(dst, g)
	}
	return dst
}

// requestHost is the request's host as the groups are keyed: lower case, without a
// ":port" of digits.
func requestHost(r *http.Request) string {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i >= 0 && i+1 < len(host) && digits(host[i+1:]) {
		host = host[:i]
	}
	return strings.ToLower(host)
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
