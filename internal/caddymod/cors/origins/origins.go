// Package origins parses CORS origins and the allow_origins patterns of the
// gateway_cors Caddy module. It imports no Caddy package, so that the translator refuses
// a pattern with the very function the module provisions it with.
package origins

import (
	"fmt"
	"strings"
)

// Origin is a parsed Origin header or pattern: lower-case scheme and host, and the
// port with the scheme's default filled in.
type Origin struct {
	scheme, host, port string
}

// Pattern is one allow_origins entry.
type Pattern struct {
	// Any is the lone "*".
	Any bool
	Origin
	// hostSuffix is set for "*.x" hosts (".x"); anyHost for a host of just "*".
	hostSuffix string
	anyHost    bool
}

// ParsePattern parses one allow_origins entry: "*", or scheme://host[:port] with scheme
// http or https and a host whose first label may be "*".
func ParsePattern(s string) (Pattern, error) {
	if s == "*" {
		return Pattern{Any: true}, nil
	}
	o, ok := Parse(s)
	if !ok {
		return Pattern{}, fmt.Errorf("allow_origins: %q is not \"*\" or scheme://host[:port] with scheme http or https", s)
	}
	p := Pattern{Origin: o}
	switch {
	case o.host == "*":
		p.anyHost = true
	case strings.HasPrefix(o.host, "*."):
		p.hostSuffix = o.host[1:]
	case strings.Contains(o.host, "*"):
		return Pattern{}, fmt.Errorf("allow_origins: %q: a wildcard must be the first label of the host", s)
	}
	return p, nil
}

// Parse parses "scheme://host[:port]" (an Origin header value, or a pattern);
// ok is false for anything else, such as "null" or a value with a path.
func Parse(s string) (Origin, bool) {
	scheme, rest, ok := strings.Cut(strings.ToLower(s), "://")
	if !ok || scheme != "http" && scheme != "https" || rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return Origin{}, false
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return Origin{}, false
		}
		if port = strings.TrimLeft(port, "0"); port == "" {
			return Origin{}, false // port 0
		}
	}
	if host == "" {
		return Origin{}, false
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return Origin{scheme: scheme, host: host, port: port}, true
}

// Matches reports whether the origin o is allowed by p (not the lone "*").
func (p *Pattern) Matches(o Origin) bool {
	if p.scheme != o.scheme || p.port != o.port {
		return false
	}
	switch {
	case p.anyHost:
		return true
	case p.hostSuffix != "":
		return len(o.host) > len(p.hostSuffix) && strings.HasSuffix(o.host, p.hostSuffix)
	default:
		return p.host == o.host
	}
}
