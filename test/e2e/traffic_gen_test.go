//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/test/utils"
)

// steadyTraffic calls an exchange at a fixed interval, each on a new connection from a
// source port no probe uses (utils.DialTraffic), until stopped or until its time limit,
// and counts the outcomes.
type steadyTraffic struct {
	kind    string // what is exchanged: HTTP, TCP or UDP
	want    string // the outcome of a successful exchange
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	results map[string]int
}

// startSteady calls exchange every interval, for at most limit.
func startSteady(kind, want string, interval, limit time.Duration, exchange func() string) *steadyTraffic {
	s := &steadyTraffic{kind: kind, want: want, stop: make(chan struct{}), done: make(chan struct{}), results: map[string]int{}}
	go func() {
		defer close(s.done)
		deadline := time.After(limit)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-deadline:
				return
			case <-tick.C:
			}
			s.record(exchange())
		}
	}()
	return s
}

// startHTTPTraffic sends GET http://addr+path with Host host every interval, for at most limit.
func startHTTPTraffic(addr, host, path string, interval, limit time.Duration) *steadyTraffic {
	client := &http.Client{Timeout: 5 * time.Second, Transport: utils.TrafficTransport()}
	return startSteady("HTTP", "200", interval, limit, func() string { return once(client, addr, host, path) })
}

// startTCPTraffic holds a conversation with the TCP echo server through addr every
// interval, for at most limit.
func startTCPTraffic(addr string, interval, limit time.Duration) *steadyTraffic {
	return startSteady("TCP", "echo", interval, limit, func() string {
		ctx, cancel := context.WithTimeout(context.Background(), layer4Timeout)
		defer cancel()
		if _, err := tcpEcho(ctx, utils.DialTraffic, addr); err != nil {
			return "error: " + err.Error()
		}
		return "echo"
	})
}

// startUDPTraffic sends a datagram to the UDP echo server through addr from a new socket
// every interval, for at most limit, and waits for its echo. A datagram that gets no
// answer is sent again on the same socket, up to udpResends times, as UDP clients do: the
// test bed's NetworkPolicy engine drops the first datagram of about one new pod-to-pod UDP
// flow in 300 (Caddy's datagram to the backend enters the iptables NFQUEUE rule the engine
// judges and never leaves it, while its resend on the same flow passes), and now and then
// twice in a row. A refused or unreachable datagram fails at once, and so does one whose
// resends get no answer either.
func startUDPTraffic(addr string, interval, limit time.Duration) *steadyTraffic {
	n := 0
	return startSteady("UDP", "echo", interval, limit, func() string {
		ctx, cancel := context.WithTimeout(context.Background(), layer4Timeout)
		defer cancel()
		conn, err := utils.DialTraffic(ctx, "udp", addr)
		if err != nil {
			return "error: " + err.Error()
		}
		defer func() { _ = conn.Close() }()
		n++
		msg := fmt.Sprintf("steady-%d", n)
		_, err = udpEcho(conn, msg)
		for resend := 1; resend <= udpResends && errors.Is(err, os.ErrDeadlineExceeded); resend++ {
			if _, err = udpEcho(conn, msg); err == nil {
				return fmt.Sprintf("echo after %d resend(s)", resend)
			}
		}
		if err != nil {
			return "error: " + err.Error()
		}
		return "echo"
	})
}

// udpResends is how many times a steady UDP exchange resends a datagram that got no answer.
const udpResends = 2

func once(client *http.Client, addr, host, path string) string {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return "error: " + err.Error()
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return "error: " + err.Error()
	}
	_ = resp.Body.Close()
	return fmt.Sprint(resp.StatusCode)
}

func (s *steadyTraffic) record(outcome string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[outcome]++
}

// Stop ends the traffic and returns the number of successful exchanges (whose outcome
// begins with want) and a description of every outcome, failed ones apart.
func (s *steadyTraffic) Stop() (ok int, succeeded, failed string) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var good, bad []string
	for k, n := range s.results {
		line := fmt.Sprintf("%dx %s", n, k)
		if strings.HasPrefix(k, s.want) {
			ok += n
			good = append(good, line)
			continue
		}
		bad = append(bad, line)
	}
	sort.Strings(good)
	sort.Strings(bad)
	return ok, strings.Join(good, "; "), strings.Join(bad, "; ")
}

// mixedTraffic is steady HTTP, TCP and UDP traffic at once.
type mixedTraffic []*steadyTraffic

// check stops the traffic, logs what each kind got during what, and fails the test if
// any exchange failed or a kind got no answer at all.
func (m mixedTraffic) check(t *testing.T, what string) {
	t.Helper()
	var failed []string
	for _, s := range m {
		ok, succeeded, others := s.Stop()
		t.Logf("%s under %s traffic: %d answered [%s], others: [%s]", what, s.kind, ok, succeeded, others)
		if others != "" || ok == 0 {
			failed = append(failed, fmt.Sprintf("%s: %d answered, others: %s", s.kind, ok, others))
		}
	}
	if len(failed) > 0 {
		t.Fatalf("exchanges failed during %s: %s", what, strings.Join(failed, "; "))
	}
}
