package acmestore

import (
	"encoding/json"
	"testing"
	"time"
)

func TestStatesDecodesStateRecordsOnly(t *testing.T) {
	at := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC)
	valid := CertificateState{Name: "a.example.com", Phase: Valid, NotAfter: at.Add(90 * 24 * time.Hour), Updated: at}
	failing := CertificateState{Phase: Failing, Error: "urn:ietf:params:acme:error:rejectedIdentifier", Updated: at}
	shard0 := map[string][]byte{}
	shard1 := map[string][]byte{}
	put(t, shard0, StateKey("a.example.com"), valid)
	put(t, shard1, StateKey("b.example.com"), failing)
	// Not states: a certificate, a state key with a directory in the name, a record stored
	// under another key's data key, undecodable JSON and a foreign data key.
	shard0[DataKey("certificates/acme/a.example.com/a.example.com.crt")] = Record{
		Key: "certificates/acme/a.example.com/a.example.com.crt", Value: []byte("{}")}.Encode()
	put(t, shard1, StateKey("x/y"), valid)
	shard1[DataKey("other")] = Record{Key: StateKey("c.example.com"), Value: []byte(`{"phase":"Valid"}`)}.Encode()
	shard1[DataKey(StateKey("d.example.com"))] = Record{Key: StateKey("d.example.com"), Value: []byte("{")}.Encode()
	shard0["ca.crt"] = []byte("x")

	got := States(shard0, shard1)
	want := map[string]CertificateState{"a.example.com": valid, "b.example.com": failing}
	want["b.example.com"] = withName(failing, "b.example.com")
	if len(got) != len(want) {
		t.Fatalf("States = %+v, want %+v", got, want)
	}
	for name, w := range want {
		g := got[name]
		if g.Name != w.Name || g.Phase != w.Phase || !g.NotAfter.Equal(w.NotAfter) || g.Error != w.Error || !g.Updated.Equal(w.Updated) {
			t.Errorf("States[%q] = %+v, want %+v", name, g, w)
		}
	}
	if States() != nil {
		t.Error("States of no Secrets is not nil")
	}
}

func withName(s CertificateState, name string) CertificateState {
	s.Name = name
	return s
}

// put stores st at key in data as the storage does.
func put(t *testing.T, data map[string][]byte, key string, st CertificateState) {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	data[DataKey(key)] = Record{Key: key, Value: b}.Encode()
}
