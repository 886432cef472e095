package deadline

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// slowNext answers after delay unless the request's context ends first, as
// reverse_proxy does: then it returns the context's error without writing.
func slowNext(delay time.Duration, status int) caddyhttp.Handler {
	return caddyhttp.HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		select {
		case <-time.After(delay):
			w.WriteHeader(status)
			return nil
		case <-r.Context().Done():
			return r.Context().Err()
		}
	})
}

func TestServeHTTP(t *testing.T) {
	tests := map[string]struct {
		next       caddyhttp.Handler
		wantStatus int // of a returned caddyhttp.HandlerError; 0: no error
		wantCode   int // written by next
	}{
		"answer within the deadline": {next: slowNext(0, 500), wantCode: 500},
		"deadline passes first":      {next: slowNext(5*time.Second, 200), wantStatus: 504},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			h := &Handler{Timeout: caddy.Duration(50 * time.Millisecond)}
			rec := httptest.NewRecorder()
			start := time.Now()
			err := h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil), tc.next)
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %s, the deadline is 50ms", took)
			}
			if tc.wantStatus == 0 {
				if err != nil || rec.Code != tc.wantCode {
					t.Errorf("err %v, code %d; want no error and %d", err, rec.Code, tc.wantCode)
				}
				return
			}
			he, ok := err.(caddyhttp.HandlerError)
			if !ok || he.StatusCode != tc.wantStatus {
				t.Errorf("err %#v, want a HandlerError with status %d", err, tc.wantStatus)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	if err := (&Handler{}).Validate(); err == nil {
		t.Error("a zero timeout was accepted")
	}
	if err := (&Handler{Timeout: caddy.Duration(time.Second)}).Validate(); err != nil {
		t.Error(err)
	}
}
