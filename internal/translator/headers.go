package translator

import (
	"strings"

	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/internal/ir"
)

// isToken reports whether s is an HTTP token (RFC 9110 tchar+), the syntax of header
// and (by our choice) query parameter names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// convertHeaderFilter converts the header modifier f, which field names within the
// filter at where.
func convertHeaderFilter(f *gwapiv1.HTTPHeaderFilter, where, field string, bad *problems) *ir.HeaderModifier {
	if f == nil {
		bad.addf("%s: header modifier filter without its configuration", where)
		return nil
	}
	out := &ir.HeaderModifier{}
	for i, h := range f.Set {
		checkHeaderValue(h.Value, where, field, "set", i, bad)
		out.Set = append(out.Set, ir.Header{Name: checkHeaderName(string(h.Name), where, bad), Value: h.Value})
	}
	for i, h := range f.Add {
		checkHeaderValue(h.Value, where, field, "add", i, bad)
		out.Add = append(out.Add, ir.Header{Name: checkHeaderName(string(h.Name), where, bad), Value: h.Value})
	}
	for _, n := range f.Remove {
		if strings.Contains(n, "*") {
			bad.addf("%s: header name %q: * is not supported in remove", where, n)
		}
		out.Remove = append(out.Remove, checkHeaderName(n, where, bad))
	}
	return out
}

func checkHeaderName(n, where string, bad *problems) string {
	if !isToken(n) {
		bad.addf("%s: invalid header name %q", where, n)
	}
	return n
}

// breaksHeaderLine reports whether v has CR, LF or NUL, which would split or cut the
// header line it ends up in (a header value, a Host or Location header).
func breaksHeaderLine(v string) bool { return strings.ContainsAny(v, "\r\n\x00") }

// checkHeaderText refuses a value of the filter at where, named by field, that breaks
// its header line.
func checkHeaderText(v, where, field string, bad *problems) {
	if breaksHeaderLine(v) {
		bad.addf("%s: %s %q must not contain CR, LF or NUL", where, field, v)
	}
}

// checkHeaderValue refuses v, the value of entry i of the list op (set or add) of the
// header modifier named by field, when it breaks its header line.
func checkHeaderValue(v, where, field, op string, i int, bad *problems) {
	if breaksHeaderLine(v) {
		bad.addf("%s: %s.%s[%d].value %q must not contain CR, LF or NUL", where, field, op, i, v)
	}
}
