package extauth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// service stands in for the reverse_proxy: it records the request it is given and
// answers status with header and body.
type service struct {
	status int
	header http.Header
	body   string
	got    *http.Request
	gotLen int
}

func (s *service) ServeHTTP(w http.ResponseWriter, r *http.Request, _ caddyhttp.Handler) error {
	b, _ := io.ReadAll(r.Body)
	s.got, s.gotLen = r, len(b)
	for k, vs := range s.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(s.status)
	_, _ = io.WriteString(w, s.body)
	return nil
}

// run sends a POST with a body, a Host and client headers through h asking svc, and
// returns what reached next (nil when nothing did) and the client's response.
func run(t *testing.T, h *Handler, svc *service) (*http.Request, *httptest.ResponseRecorder) {
	t.Helper()
	h.proxy = svc
	r := httptest.NewRequest("POST", "http://app.example.com/orders?x=1", strings.NewReader("payload"))
	r.Header.Set("Authorization", "Bearer good")
	r.Header.Set("X-Tenant", "t1")
	r.Header.Set("X-Secret", "s")
	r.Header.Set("X-User", "forged")
	var reached *http.Request
	next := caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		reached = r
		b, _ := io.ReadAll(r.Body)
		_, _ = io.WriteString(w, "backend got "+string(b))
		return nil
	})
	w := httptest.NewRecorder()
	if err := h.ServeHTTP(w, r, next); err != nil {
		t.Fatal(err)
	}
	return reached, w
}

func TestAllowed(t *testing.T) {
	for name, tc := range map[string]struct {
		allowed  []string
		wantUser string
		wantRole string
	}{
		"listed":         {allowed: []string{"x-user", "Host"}, wantUser: "alice"},
		"every but Host": {wantUser: "alice", wantRole: "admin"},
	} {
		t.Run(name, func(t *testing.T) {
			h := &Handler{PathPrefix: "/check", AllowedHeaders: []string{"X-Tenant"}, AllowedResponseHeaders: tc.allowed}
			svc := &service{status: 200, body: "ignored", header: http.Header{
				"X-User": {"alice"}, "X-Role": {"admin"}, "Host": {"evil.example.com"}, "Content-Type": {"text/plain"}}}
			reached, w := run(t, h, svc)
			if reached == nil {
				t.Fatal("the request did not continue")
			}
			if got := reached.Header.Get("X-User"); got != tc.wantUser {
				t.Errorf("X-User %q, want %q", got, tc.wantUser)
			}
			if got := reached.Header.Get("X-Role"); got != tc.wantRole {
				t.Errorf("X-Role %q, want %q", got, tc.wantRole)
			}
			if reached.Host != "app.example.com" || reached.Header.Get("Host") != "" || reached.Header.Get("Content-Type") != "" {
				t.Errorf("Host %q, Host header %q, Content-Type %q: the answer's must not be copied",
					reached.Host, reached.Header.Get("Host"), reached.Header.Get("Content-Type"))
			}
			if w.Body.String() != "backend got payload" {
				t.Errorf("client got %q, want the backend's answer with the body it was sent", w.Body.String())
			}
			a := svc.got
			if a.Method != "POST" || a.URL.RequestURI() != "/check/orders?x=1" || a.Host != "app.example.com" || svc.gotLen != 0 ||
				a.Header.Get("Authorization") != "Bearer good" || a.Header.Get("X-Tenant") != "t1" ||
				a.Header.Get("X-Secret") != "" || a.Header.Get("X-User") != "" {
				t.Errorf("service got %s %s host %q body %d headers %v", a.Method, a.URL.RequestURI(), a.Host, svc.gotLen, a.Header)
			}
		})
	}
}

func TestDenied(t *testing.T) {
	for _, status := range []int{204, 302, 401, 403, 500} {
		svc := &service{status: status, body: "denied by auth", header: http.Header{"X-Auth-Reason": {"no token"}}}
		reached, w := run(t, &Handler{}, svc)
		if reached != nil {
			t.Errorf("%d: the request continued", status)
		}
		if w.Code != status || w.Body.String() != "denied by auth" || w.Header().Get("X-Auth-Reason") != "no token" {
			t.Errorf("%d: client got %d %q %v, want the service's answer", status, w.Code, w.Body.String(), w.Header())
		}
	}
}

func TestValidate(t *testing.T) {
	for prefix, ok := range map[string]bool{"": true, "/check": true, "check": false, "/a?b": false} {
		if err := (&Handler{PathPrefix: prefix}).Validate(); (err == nil) != ok {
			t.Errorf("prefix %q: error %v, want ok=%t", prefix, err, ok)
		}
	}
}
