package acmestore

import (
	"encoding/json"
	"strings"
)

// statePrefix and stateSuffix enclose a hostname in its StateKey.
const (
	statePrefix = "gateway/certificate-states/"
	stateSuffix = ".json"
)

// StateKey is the storage key under which the pods record the state of the automatic
// certificate for name.
func StateKey(name string) string {
	return statePrefix + name + stateSuffix
}

// States decodes the certificate states recorded in the data of a Gateway's storage
// Secrets, by hostname; a record that does not decode is left out.
func States(shards ...map[string][]byte) map[string]CertificateState {
	var out map[string]CertificateState
	for _, data := range shards {
		for dk, v := range data {
			name, st, ok := decodeState(dk, v)
			if !ok {
				continue
			}
			if out == nil {
				out = map[string]CertificateState{}
			}
			out[name] = st
		}
	}
	return out
}

// decodeState returns the hostname and state of one Secret data entry when it is a
// state record.
func decodeState(dataKey string, value []byte) (string, CertificateState, bool) {
	if !IsDataKey(dataKey) {
		return "", CertificateState{}, false
	}
	r, err := DecodeRecord(value)
	if err != nil || DataKey(r.Key) != dataKey {
		return "", CertificateState{}, false
	}
	name, ok := strings.CutPrefix(r.Key, statePrefix)
	if !ok {
		return "", CertificateState{}, false
	}
	name, ok = strings.CutSuffix(name, stateSuffix)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", CertificateState{}, false
	}
	var st CertificateState
	if err := json.Unmarshal(r.Value, &st); err != nil {
		return "", CertificateState{}, false
	}
	st.Name = name
	return name, st, true
}
