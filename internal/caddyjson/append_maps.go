package caddyjson

import "slices"

// sortedKeys returns the keys of m in encoding/json's order, or ok false when a key
// is not plain ASCII (then the caller falls back to encoding/json for the map).
func sortedKeys[V any](m map[string]V) ([]string, bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		if !plainKey(k) {
			return nil, false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys, true
}

// onlyEntry returns the entry of a one-entry map without allocating; ok is false for
// other sizes and for keys that are not plain ASCII.
func onlyEntry[V any](m map[string]V) (string, V, bool) {
	if len(m) == 1 {
		for k, v := range m {
			return k, v, plainKey(k)
		}
	}
	var zero V
	return "", zero, false
}

// plainKey reports whether encoding/json writes k verbatim between quotes.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// writeMap writes m as a JSON object in encoding/json's key order, each value by
// each; a map with a key that is not plain ASCII goes through encoding/json.
func writeMap[V any](w *writer, m map[string]V, each func(V)) {
	if k, v, ok := onlyEntry(m); ok {
		w.open()
		w.key(k)
		each(v)
		w.close()
		return
	}
	keys, ok := sortedKeys(m)
	if !ok {
		w.marshal(m)
		return
	}
	w.open()
	for _, k := range keys {
		w.key(k)
		each(m[k])
	}
	w.close()
}

// strListMap writes a map of string lists; nil is null.
func (w *writer) strListMap(m map[string][]string) {
	if m == nil {
		w.b = append(w.b, "null"...)
		return
	}
	writeMap(w, m, w.strs)
}
