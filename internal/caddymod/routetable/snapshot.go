package routetable

import (
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

// newSnapshot indexes gens, keyed by host table host.
func newSnapshot(gens map[string]*generation) *snapshot {
	s := &snapshot{exact: map[string]*generation{}, wild: map[string]*generation{}}
	for host, g := range gens {
		switch {
		case host == "":
			s.any = g
		case strings.HasPrefix(host, "*."):
			s.wild[strings.ToLower(host[1:])] = g
		default:
			s.exact[strings.ToLower(host)] = g
		}
	}
	return s
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
