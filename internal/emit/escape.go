package emit

import "strings"

// placeholderEscaper escapes Caddy placeholder braces. Caddy's replacer turns `\{` and
// `\}` into literal braces, so {env.HOME} or {file./etc/passwd} in a user's header value
// or path stays text instead of reading the pod's environment or files.
var placeholderEscaper = strings.NewReplacer(`{`, `\{`, `}`, `\}`)

// lit escapes a user-supplied string for a Caddy field that expands placeholders.
func lit(s string) string {
	if !strings.ContainsAny(s, "{}") {
		return s
	}
	return placeholderEscaper.Replace(s)
}
