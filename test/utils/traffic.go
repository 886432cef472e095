package utils

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Source ports of measured traffic: below the kernel's ephemeral range (Linux default
// 32768–60999), above the well-known and registered services a node runs, and clear of
// the NodePort range (30000–32767).
const (
	trafficPortLow  = 20000
	trafficPortHigh = 29999
)

var trafficPorts = struct {
	sync.Mutex
	next int
}{next: trafficPortLow}

// TrafficTransport is the HTTP transport of a measurement of steady traffic (requests
// during a rolling update, an upgrade, a fault): every request on a new connection whose
// source port is taken in turn from a range the kernel never picks by itself.
//
// A probe sent to a ClusterIP before kube-proxy programmed it leaves an un-NATed SYN_SENT
// conntrack entry for 120 s; a later connection that happens to get that probe's source
// port is sent by that entry past the Service and fails (from a node: "no route to host"
// after 3 s of ARP). With ports no probe can have, a request that fails in a measurement
// failed because of the product.
func TrafficTransport() *http.Transport {
	return &http.Transport{DisableKeepAlives: true, DialContext: DialTraffic}
}

// DialTraffic dials addr over network (tcp or udp) from the next traffic port, skipping
// ports still held by a socket of this host (one in TIME_WAIT, say).
func DialTraffic(ctx context.Context, network, addr string) (net.Conn, error) {
	var err error
	for range 64 {
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: localAddr(network, nextTrafficPort())}
		var c net.Conn
		c, err = d.DialContext(ctx, network, addr)
		if !errors.Is(err, syscall.EADDRINUSE) && !errors.Is(err, syscall.EADDRNOTAVAIL) {
			return c, err
		}
	}
	return nil, err
}

func localAddr(network string, port int) net.Addr {
	if strings.HasPrefix(network, "udp") {
		return &net.UDPAddr{Port: port}
	}
	return &net.TCPAddr{Port: port}
}

func nextTrafficPort() int {
	trafficPorts.Lock()
	defer trafficPorts.Unlock()
	p := trafficPorts.next
	trafficPorts.next++
	if trafficPorts.next > trafficPortHigh {
		trafficPorts.next = trafficPortLow
	}
	return p
}
