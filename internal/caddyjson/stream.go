package caddyjson

import "iter"

// RouteStream is a "subroute" handler whose routes are produced while the config is
// encoded instead of being held in memory: an emitter with tens of thousands of routes
// builds each one into the same scratch value. It encodes exactly as a Subroute with
// the same routes would (as an empty list when there are none).
type RouteStream struct {
	// Handler is "subroute".
	Handler string
	// Routes yields the routes in order. A yielded route is encoded before the next
	// is asked for, so the sequence may reuse one Route and its matcher sets; it must
	// yield the same routes every time it is ranged over. Handler lists are not to be
	// reused for other handlers: the encoder copies the bytes of a list it has seen.
	Routes iter.Seq[*Route]
}

// MarshalJSON encodes s for encoding/json with the same bytes AppendJSON writes.
func (s RouteStream) MarshalJSON() ([]byte, error) {
	w := writer{b: make([]byte, 0, 512)}
	w.routeStream(&s)
	return w.b, w.err
}

func (w *writer) routeStream(s *RouteStream) {
	w.open()
	w.key("handler")
	w.str(s.Handler)
	w.key("routes")
	w.b = append(w.b, '[')
	first := true
	if s.Routes != nil {
		for r := range s.Routes {
			if !first {
				w.b = append(w.b, ',')
			}
			first = false
			w.route(r)
		}
	}
	w.b = append(w.b, ']')
	w.close()
}
