package caddyjson

import (
	"encoding/json"
	"slices"
	"strings"
)

// RegexpMap is a JSON object of regexps by key (a header field, a placeholder). It is
// a list rather than a Go map so that the matcher sets of a large route table are
// filled and cleared without hashing. Keys are unique (Set replaces); the object is
// written in encoding/json's key order, whatever the order of the list.
type RegexpMap []KeyedRegexp

// KeyedRegexp is one entry of a RegexpMap.
type KeyedRegexp struct {
	Key   string
	Value Regexp
}

// Set sets the regexp of key.
func (m *RegexpMap) Set(key string, r Regexp) {
	for i := range *m {
		if (*m)[i].Key == key {
			(*m)[i].Value = r
			return
		}
	}
	*m = append(*m, KeyedRegexp{Key: key, Value: r})
}

// MarshalJSON writes m through a Go map, as encoding/json writes a map[string]Regexp.
func (m RegexpMap) MarshalJSON() ([]byte, error) {
	if m == nil {
		return []byte("null"), nil
	}
	byKey := make(map[string]Regexp, len(m))
	for _, e := range m {
		byKey[e.Key] = e.Value
	}
	return json.Marshal(byKey)
}

// regexpMap writes m in encoding/json's key order; a key that is not plain ASCII sends
// the whole object through encoding/json.
func (w *writer) regexpMap(m RegexpMap) {
	for i := range m {
		if !plainKey(m[i].Key) {
			w.marshal(m)
			return
		}
	}
	if len(m) > 1 && !slices.IsSortedFunc(m, compareKeys) {
		m = slices.SortedFunc(slices.Values(m), compareKeys)
	}
	w.open()
	for i := range m {
		w.key(m[i].Key)
		w.regexp(&m[i].Value)
	}
	w.close()
}

func compareKeys(a, b KeyedRegexp) int { return strings.Compare(a.Key, b.Key) }
