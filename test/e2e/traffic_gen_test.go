//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddy-gateway/operator/test/utils"
)

// steadyTraffic sends sequential GET requests on new connections at a fixed interval
// until stopped or until its time limit, and counts the answers by outcome.
type steadyTraffic struct {
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	results map[string]int
}

// startTraffic starts requests to http://addr+path with Host host every interval, for at
// most limit, from source ports no probe uses (utils.TrafficTransport).
func startTraffic(addr, host, path string, interval, limit time.Duration) *steadyTraffic {
	s := &steadyTraffic{stop: make(chan struct{}), done: make(chan struct{}), results: map[string]int{}}
	client := &http.Client{Timeout: 5 * time.Second, Transport: utils.TrafficTransport()}
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
			s.record(once(client, addr, host, path))
		}
	}()
	return s
}

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

// Stop ends the traffic and returns the number of 200 answers and a description of
// every other outcome.
func (s *steadyTraffic) Stop() (ok int, others string) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	var lines []string
	for k, n := range s.results {
		if k == "200" {
			ok = n
			continue
		}
		lines = append(lines, fmt.Sprintf("%dx %s", n, k))
	}
	sort.Strings(lines)
	return ok, strings.Join(lines, "; ")
}
