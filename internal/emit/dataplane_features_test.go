package emit_test

import (
	"maps"
	"slices"
	"testing"
)

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func testHeaderMatching(t *testing.T, d *dataPlane) {
	d.expect("GET", "/hdr", map[string]string{"X-Env": "prod"}, 200)
	d.expect("GET", "/hdr", map[string]string{"X-Env": "Prod"}, 404)
	d.expect("GET", "/hdr", nil, 404)
	d.expect("GET", "/hdr-re", map[string]string{"X-Ver": "v12"}, 200)
	d.expect("GET", "/hdr-re", map[string]string{"X-Ver": "xv12"}, 404)
}

func testHeaderModifiers(t *testing.T, d *dataPlane) {
	resp, e := d.do("GET", "/mod", map[string]string{"X-Remove": "gone", "X-Add": "first"})
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := e.Header.Get("X-Set"); got != "{env.HOME}" {
		t.Errorf("X-Set = %q, want literal {env.HOME}", got)
	}
	if got := e.Header.Values("X-Add"); !slices.Equal(got, []string{"first", "{file./etc/passwd}"}) {
		t.Errorf("X-Add = %q, want [first {file./etc/passwd}]", got)
	}
	if got := e.Header.Get("X-Remove"); got != "" {
		t.Errorf("X-Remove still sent: %q", got)
	}
	if got := resp.Header.Get("X-Resp"); got != "{env.HOME}" {
		t.Errorf("response X-Resp = %q, want literal {env.HOME}", got)
	}
	if got := resp.Header.Get("X-Backend-Resp"); got != "" {
		t.Errorf("response X-Backend-Resp not removed: %q", got)
	}
}

func testRedirects(t *testing.T, d *dataPlane) {
	cases := []struct {
		path, host, location string
		status               int
	}{
		{"/redir-scheme/x?a=1", "h.example.com", "https://example.org/redir-scheme/x?a=1", 301},
		{"/redir-full/x", "h.example.com:1234", "http://h.example.com:8443/{env.HOME}", 302},
		{"/redir-prefix/rest", "h.example.com", "http://h.example.com:PORT/new/rest", 308},
		{"/redir-prefix", "h.example.com", "http://h.example.com:PORT/new", 308},
	}
	for _, c := range cases {
		resp, _ := d.do("GET", c.path, map[string]string{"Host": c.host})
		want := c.location
		if i := len("http://h.example.com:"); len(want) > i && want[i:i+4] == "PORT" {
			want = want[:i] + d.base[len("http://127.0.0.1:"):] + want[i+4:]
		}
		if resp.StatusCode != c.status || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d %q, want %d %q", c.path, resp.StatusCode, resp.Header.Get("Location"), c.status, want)
		}
	}
}

func testRewrites(t *testing.T, d *dataPlane) {
	cases := []struct{ path, wantPath, wantQuery, wantHost string }{
		{"/rw-full/x?k=v", "/new-{env.HOME}", "k=v", "rewritten.example.com"},
		{"/rw-prefix/two", "/one/two", "", ""},
		{"/rw-prefix", "/one", "", ""},
		{"/rw-strip/three", "/three", "", ""},
		{"/rw-strip", "/", "", ""},
	}
	for _, c := range cases {
		e := d.expect("GET", c.path, nil, 200)
		if e.Path != c.wantPath || e.Query != c.wantQuery || c.wantHost != "" && e.Host != c.wantHost {
			t.Errorf("%s: backend saw path %q query %q host %q, want %q %q %q", c.path, e.Path, e.Query, e.Host, c.wantPath, c.wantQuery, c.wantHost)
		}
	}
}

func testWeights(t *testing.T, d *dataPlane) {
	counts := map[string]int{}
	for range 80 {
		e := d.expect("GET", "/weights", nil, 200)
		counts[e.Backend]++
	}
	// 3:1 with round robin: 60/20 exactly; allow slack for ordering.
	if counts["a"] < 50 || counts["a"] > 70 || counts["b"] < 10 || counts["b"] > 30 {
		t.Errorf("weights 3:1 split as %v", counts)
	}
}

func testInvalidBackends(t *testing.T, d *dataPlane) {
	d.expect("GET", "/invalid", nil, 500)
	statuses := map[int]int{}
	for range 40 {
		resp, _ := d.do("GET", "/half", nil)
		statuses[resp.StatusCode]++
	}
	if statuses[200] < 10 || statuses[500] < 10 || statuses[200]+statuses[500] != 40 {
		t.Errorf("one valid and one invalid backend of equal weight answered %v, want about half 500", statuses)
	}
}

func testReadiness(t *testing.T, d *dataPlane) {
	for path, want := range map[string]int{"/ready": 200, "/other": 404} {
		resp, err := d.client.Get(d.readiness + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("readiness %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
}
