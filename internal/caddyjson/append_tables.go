package caddyjson

import "iter"

// RouteLists encodes route lists (the Routes of host tables) one after the other into
// one buffer, as AppendJSON would encode them: a handler list that several routes share
// (same backing array, as emit shares them), in any of the lists, is encoded once and
// its bytes copied.
type RouteLists struct {
	w writer
}

// NewRouteLists returns RouteLists appending to b.
func NewRouteLists(b []byte) *RouteLists { return &RouteLists{w: writer{b: b}} }

// Append encodes the routes as a JSON list and returns where it lies in Bytes. A route is
// encoded before the next is asked for, so the sequence may reuse one Route and its
// matcher sets; handler lists are not to be reused for other handlers, since the bytes
// of a list seen before are copied.
func (l *RouteLists) Append(routes iter.Seq[*Route]) (start, end int) {
	w := &l.w
	start = len(w.b)
	w.b = append(w.b, '[')
	first := true
	for r := range routes {
		if !first {
			w.b = append(w.b, ',')
		}
		first = false
		w.route(r)
	}
	w.b = append(w.b, ']')
	return start, len(w.b)
}

// Bytes returns the encoded lists and the first error of an encoding.
func (l *RouteLists) Bytes() ([]byte, error) { return l.w.b, l.w.err }
