package caddyjson

import (
	"encoding/json"
	"strconv"
)

// AppendJSON appends the JSON encoding of c to b. The bytes are identical to
// encoding/json.Marshal(c) (a test in package emit checks every golden and a
// generated config), but no reflection is involved: configs with tens of thousands of
// routes encode in milliseconds. Strings outside printable ASCII, and strings
// encoding/json escapes for HTML, fall back to encoding/json.
func (c *Config) AppendJSON(b []byte) ([]byte, error) {
	w := writer{b: b}
	w.config(c)
	return w.b, w.err
}

// AppendJSONFlushing is AppendJSON that also hands what it appends to flush, in order
// and as it goes: stretches of at least flushSize bytes (the last may be shorter), each
// as soon as its routes are written, so that a consumer such as a hash can run
// alongside the encoding. The bytes handed over are never written again.
func (c *Config) AppendJSONFlushing(b []byte, flush func([]byte)) ([]byte, error) {
	w := writer{b: b, flush: flush, flushed: len(b)}
	w.config(c)
	w.flushDone()
	return w.b, w.err
}

// flushSize is the least number of bytes AppendJSONFlushing hands over at once.
const flushSize = 64 << 10

// flushDone hands the bytes written since the last flush to w.flush.
func (w *writer) flushDone() {
	if w.flush != nil && len(w.b) > w.flushed {
		w.flush(w.b[w.flushed:len(w.b):len(w.b)])
		w.flushed = len(w.b)
	}
}

// writer accumulates JSON and the first error of a fallback encoding.
type writer struct {
	b   []byte
	err error
	// flush, when set, receives the output from flushed on (AppendJSONFlushing).
	flush   func([]byte)
	flushed int
	// handles remembers where each route handler list was first written: routes that
	// share a list (same backing array, as emit shares them) copy those bytes.
	handles map[handleKey][2]int
}

// handleKey identifies a handler list by its backing array and length.
type handleKey struct {
	first *Handler
	n     int
}

// key writes a member name, preceded by a comma unless it opens the object. A
// complete JSON value never ends in '{', so the last byte tells.
//
// Writers that append several times build into a local slice and store w.b once: the
// writer lives on the heap, where each store of w.b costs a write barrier while the
// garbage collector runs.
func (w *writer) key(k string) {
	b := w.b
	if b[len(b)-1] != '{' {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, k...)
	w.b = append(b, '"', ':')
}

func (w *writer) open() { w.b = append(w.b, '{') }

func (w *writer) close() { w.b = append(w.b, '}') }

// str writes a JSON string. The fast path covers printable ASCII, where encoding/json
// only escapes a quote or a backslash with a backslash (regexp patterns are full of
// backslashes); anything else goes through encoding/json.
func (w *writer) str(s string) {
	escapes := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			escapes++
		case c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&':
			w.marshal(s)
			return
		}
	}
	b := append(w.b, '"')
	if escapes == 0 {
		b = append(b, s...)
	} else {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' {
				b = append(b, '\\', c)
			} else {
				b = append(b, c)
			}
		}
	}
	w.b = append(b, '"')
}

// marshal is the slow path: encoding/json for anything unusual.
func (w *writer) marshal(v any) {
	raw, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.b = append(w.b, raw...)
}

func (w *writer) int(n int) { w.b = strconv.AppendInt(w.b, int64(n), 10) }

func (w *writer) bool(v bool) { w.b = strconv.AppendBool(w.b, v) }

// strs writes a string list; nil is null, as encoding/json writes it.
func (w *writer) strs(l []string) {
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	writeList(w, l, func(s *string) { w.str(*s) })
}

// optStrs writes an omitempty string list member.
func (w *writer) optStrs(k string, l []string) {
	if len(l) > 0 {
		w.key(k)
		w.strs(l)
	}
}

func (w *writer) optStr(k, s string) {
	if s != "" {
		w.key(k)
		w.str(s)
	}
}

// writeList writes xs as a JSON array, each element by each.
func writeList[T any](w *writer, xs []T, each func(*T)) {
	w.b = append(w.b, '[')
	for i := range xs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		each(&xs[i])
	}
	w.b = append(w.b, ']')
}
