package utils

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// TestTrafficTransportDialsFromTrafficPorts: each request of measured traffic comes from a
// new source port of the traffic range, never from the kernel's ephemeral range.
func TestTrafficTransportDialsFromTrafficPorts(t *testing.T) {
	ports := make(chan int, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, p, _ := net.SplitHostPort(r.RemoteAddr)
		n, _ := strconv.Atoi(p)
		ports <- n
	}))
	defer srv.Close()
	hc := &http.Client{Transport: TrafficTransport()}
	seen := map[int]bool{}
	for range 10 {
		resp, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		p := <-ports
		if p < trafficPortLow || p > trafficPortHigh {
			t.Fatalf("a request came from port %d, outside %d–%d", p, trafficPortLow, trafficPortHigh)
		}
		if seen[p] {
			t.Fatalf("port %d served two requests", p)
		}
		seen[p] = true
	}
}
