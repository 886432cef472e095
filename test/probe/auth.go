package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

// Tokens and answers of the authorization service (probe auth).
const (
	// authToken is the Authorization value the service allows.
	authToken = "Bearer good"
	// authUser is the X-User header of an allowed request's answer.
	authUser = "alice"
	// authDeniedBody is the body of a denial (403).
	authDeniedBody = "denied by auth"
)

// serveAuth is an HTTP authorization service for ExternalAuth filters: a request with
// "Authorization: Bearer good" gets 200 with X-User: alice, and a Host header of its own
// that a Gateway must not copy into the request; any other gets 403 with
// X-Auth-Reason and a body of its own. Every answer echoes the path it was asked for in
// X-Auth-Path.
func serveAuth(addr string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Auth-Path", r.URL.RequestURI())
		if r.Header.Get("Authorization") != authToken {
			w.Header().Set("X-Auth-Reason", "no token")
			w.WriteHeader(http.StatusForbidden)
			_, _ = fmt.Fprint(w, authDeniedBody)
			return
		}
		w.Header().Set("X-User", authUser)
		w.Header().Set("Host", "evil.example.com")
		_, _ = fmt.Fprint(w, "allowed")
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
