package cors

import (
	"fmt"
	"strings"
)

// origin is a parsed Origin header or pattern: lower-case scheme and host, and the
// port with the scheme's default filled in.
type origin struct {
	scheme, host, port string
}

// originPattern is one allow_origins entry.
type originPattern struct {
	// any is the lone "*".
	any bool
	origin
	// hostSuffix is set for "*.x" hosts (".x"); anyHost for a host of just "*".
	hostSuffix string
	anyHost    bool
}

func parseOriginPattern(s string) (originPattern, error) {
	if s == "*" {
		return originPattern{any: true}, nil
	}
	o, ok := parseOrigin(s)
	if !ok {
		return originPattern{}, fmt.Errorf("allow_origins: %q is not \"*\" or scheme://host[:port] with scheme http or https", s)
	}
	p := originPattern{origin: o}
	switch {
	case o.host == "*":
		p.anyHost = true
	case strings.HasPrefix(o.host, "*."):
		p.hostSuffix = o.host[1:]
	case strings.Contains(o.host, "*"):
		return originPattern{}, fmt.Errorf("allow_origins: %q: a wildcard must be the first label of the host", s)
	}
	return p, nil
}

// parseOrigin parses "scheme://host[:port]" (an Origin header value, or a pattern);
// ok is false for anything else, such as "null" or a value with a path.
func parseOrigin(s string) (origin, bool) {
	scheme, rest, ok := strings.Cut(strings.ToLower(s), "://")
	if !ok || scheme != "http" && scheme != "https" || rest == "" || strings.ContainsAny(rest, "/?#@ ") {
		return origin{}, false
	}
	host, port := rest, ""
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.HasSuffix(rest, "]") {
		host, port = rest[:i], rest[i+1:]
		if port == "" || strings.Trim(port, "0123456789") != "" {
			return origin{}, false
		}
		if port = strings.TrimLeft(port, "0"); port == "" {
			return origin{}, false // port 0
		}
	}
	if host == "" {
		return origin{}, false
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[scheme]
	}
	return origin{scheme: scheme, host: host, port: port}, true
}

func (p *originPattern) matches(o origin) bool {
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
