package cors

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// newHandler decodes, provisions and validates a handler from its JSON config.
func newHandler(t *testing.T, raw string) *Handler {
	t.Helper()
	var h Handler
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := h.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	return &h
}

// backend answers 200 with its own CORS header, which the handler must replace.
var backend = caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Access-Control-Allow-Origin", "https://backend.example")
	w.Header().Set("X-Backend", "yes")
	_, err := w.Write([]byte("body"))
	return err
})

func run(t *testing.T, h *Handler, method string, headers map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, "http://gw.example.com/p", nil)
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, backend); err != nil {
		t.Fatal(err)
	}
	return w
}

const conformanceLike = `{"allow_origins":["https://www.foo.com","https://*.bar.com"],"allow_methods":["GET","OPTIONS"],
"allow_headers":["x-header-1","x-header-2"],"expose_headers":["x-header-3","x-header-4"],"allow_credentials":true,"max_age":3600}`

// want is a response expectation; "" means the header must be absent.
type want struct {
	status  int
	backend bool
	headers map[string]string
}

func TestCORS(t *testing.T) {
	preflight := func(origin, method, headers string) map[string]string {
		m := map[string]string{"Origin": origin, "Access-Control-Request-Method": method}
		if headers != "" {
			m["Access-Control-Request-Headers"] = headers
		}
		return m
	}
	absent := ""
	cases := map[string]struct {
		config  string
		method  string
		headers map[string]string
		want    want
	}{
		"preflightExactOrigin": {conformanceLike, "OPTIONS", preflight("https://www.foo.com", "GET", "x-header-1, x-header-2"), want{200, false, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Methods": "GET, OPTIONS",
			"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Expose-Headers": "x-header-3, x-header-4",
			"Access-Control-Max-Age": "3600", "Access-Control-Allow-Credentials": "true", "Vary": "Origin"}}},
		"preflightWildcardOneLabel":    {conformanceLike, "OPTIONS", preflight("https://www.bar.com", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": "https://www.bar.com"}}},
		"preflightWildcardManyLabels":  {conformanceLike, "OPTIONS", preflight("https://xpto.www.bar.com", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": "https://xpto.www.bar.com"}}},
		"preflightWildcardNotApex":     {conformanceLike, "OPTIONS", preflight("https://bar.com", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": absent, "Access-Control-Allow-Methods": absent}}},
		"preflightDefaultPortMatches":  {conformanceLike, "OPTIONS", preflight("https://www.foo.com:443", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": "https://www.foo.com:443"}}},
		"preflightOtherPortRejected":   {conformanceLike, "OPTIONS", preflight("https://www.foo.com:8443", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": absent}}},
		"preflightOtherSchemeRejected": {conformanceLike, "OPTIONS", preflight("http://www.foo.com", "GET", ""), want{200, false, map[string]string{"Access-Control-Allow-Origin": absent}}},
		"preflightNonMatching": {conformanceLike, "OPTIONS", preflight("https://foobar.com", "GET", ""), want{200, false, map[string]string{
			"Access-Control-Allow-Origin": absent, "Access-Control-Allow-Credentials": absent, "Access-Control-Max-Age": absent}}},
		"optionsWithoutRequestMethodIsForwarded": {conformanceLike, "OPTIONS", map[string]string{"Origin": "https://www.foo.com"}, want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com"}}},
		"actualAllowed": {conformanceLike, "GET", map[string]string{"Origin": "https://www.foo.com"}, want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://www.foo.com", "Access-Control-Allow-Credentials": "true",
			"Access-Control-Expose-Headers": "x-header-3, x-header-4", "Access-Control-Allow-Methods": absent, "Vary": "Origin"}}},
		"actualNotAllowedKeepsBackendHeaders": {conformanceLike, "GET", map[string]string{"Origin": "https://evil.example"}, want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://backend.example", "Access-Control-Allow-Credentials": absent}}},
		"noOrigin": {conformanceLike, "GET", nil, want{200, true, map[string]string{"Access-Control-Allow-Origin": "https://backend.example", "Vary": "Origin"}}},
		"wildcardMethodsEchoed": {`{"allow_origins":["https://www.foo.com"],"allow_methods":["*"]}`, "OPTIONS", preflight("https://www.foo.com", "POST", ""), want{200, false, map[string]string{
			"Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Credentials": absent, "Access-Control-Max-Age": "5", "Access-Control-Allow-Headers": absent}}},
		"wildcardOriginEchoesWithPort": {`{"allow_origins":["*"],"allow_methods":["*"]}`, "OPTIONS", preflight("https://foobar.com:12345", "PUT", ""), want{200, false, map[string]string{
			"Access-Control-Allow-Origin": "https://foobar.com:12345", "Access-Control-Allow-Methods": "PUT"}}},
		"wildcardHeadersEchoedWithCredentials": {`{"allow_origins":["*"],"allow_methods":["*"],"allow_headers":["*"],"expose_headers":["*"],"allow_credentials":true}`, "OPTIONS",
			preflight("https://other.foo.com", "PUT", "x-header-1, x-header-2"), want{200, false, map[string]string{
				"Access-Control-Allow-Origin": "https://other.foo.com", "Access-Control-Allow-Methods": "PUT",
				"Access-Control-Allow-Headers": "x-header-1, x-header-2", "Access-Control-Allow-Credentials": "true",
				"Access-Control-Expose-Headers": absent}}},
		"wildcardExposeWithoutCredentials": {`{"allow_origins":["*"],"expose_headers":["*"]}`, "GET", map[string]string{"Origin": "https://a.example"}, want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "https://a.example", "Access-Control-Expose-Headers": "*"}}},
		"wildcardOriginAcceptsAnyScheme": {`{"allow_origins":["*"]}`, "GET", map[string]string{"Origin": "null"}, want{200, true, map[string]string{"Access-Control-Allow-Origin": "null"}}},
		"hostWildcardWithPort": {`{"allow_origins":["http://*:8080"]}`, "GET", map[string]string{"Origin": "http://anything.example:8080"}, want{200, true, map[string]string{
			"Access-Control-Allow-Origin": "http://anything.example:8080"}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			w := run(t, newHandler(t, c.config), c.method, c.headers)
			if w.Code != c.want.status {
				t.Errorf("status %d, want %d", w.Code, c.want.status)
			}
			if got := w.Header().Get("X-Backend") == "yes"; got != c.want.backend {
				t.Errorf("reached backend: %v, want %v", got, c.want.backend)
			}
			for k, v := range c.want.headers {
				got := strings.Join(w.Header().Values(k), ",")
				if k == "Vary" {
					if !strings.Contains(got, v) {
						t.Errorf("Vary = %q, want it to contain %q", got, v)
					}
					continue
				}
				if got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestCORSBackendStatusKept: error answers of the backend get the headers too.
func TestCORSBackendStatusKept(t *testing.T) {
	h := newHandler(t, conformanceLike)
	r := httptest.NewRequest("GET", "http://gw/", nil)
	r.Header.Set("Origin", "https://www.foo.com")
	w := httptest.NewRecorder()
	err := h.ServeHTTP(w, r, caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusServiceUnavailable)
		return nil
	}))
	if err != nil || w.Code != 503 || w.Header().Get("Access-Control-Allow-Origin") != "https://www.foo.com" {
		t.Errorf("got %v %d %q", err, w.Code, w.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestCORSValidate(t *testing.T) {
	cases := map[string]string{
		`{"allow_origins":["https://a.example","http://*.b.example:8080","*"]}`: `"*" cannot be combined`,
		`{"allow_origins":["ftp://a.example"]}`:                                 "is not",
		`{"allow_origins":["https://a.example/path"]}`:                          "is not",
		`{"allow_origins":["https://a.*.example"]}`:                             "first label",
		`{"allow_methods":["GE T"]}`:                                            "not a valid",
		`{"allow_headers":["x:y"]}`:                                             "not a valid",
		`{"max_age":-1}`:                                                        "negative",
		`{"allow_origins":["https://a.example:8443"],"allow_methods":["*"]}`:    "",
	}
	for raw, want := range cases {
		var h Handler
		if err := json.Unmarshal([]byte(raw), &h); err != nil {
			t.Fatal(err)
		}
		err := h.Validate()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s: Validate() = %v, want %q", raw, err, want)
		}
	}
}
