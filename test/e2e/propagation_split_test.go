//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/envconf"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// timedRoute is one new route the probe timed: when its create was sent and answered, and
// when it first answered 200 through Caddy.
type timedRoute struct {
	name                   string
	start, created, served time.Time
}

func (r timedRoute) latency() time.Duration { return r.served.Sub(r.start) }

// splitSlowest logs the slowest routes' times split where they were spent: the API
// server's answer to the create, from the create to the first route table push a Caddy
// pod logged receiving (and the last pod's, with more than one), and from that first push
// to the first 200. The cluster runs on this machine, so Caddy's log times and the
// probe's share one clock. pushes are the Caddy pods' route table pushes (tablePushes).
func splitSlowest(b *testing.B, pushes map[string][]time.Time, routes []timedRoute, n int) {
	var toPush, fromPush, spread []time.Duration
	for _, r := range routes {
		if first, last, ok := pushesOf(pushes, r); ok {
			toPush, fromPush = append(toPush, first.Sub(r.start)), append(fromPush, r.served.Sub(first))
			spread = append(spread, last.Sub(first))
		}
	}
	if len(toPush) > 0 {
		for _, d := range [][]time.Duration{toPush, fromPush, spread} {
			slices.Sort(d)
		}
		b.Logf("new routes, %d of %d with a route table push logged before they were served: create to push p50 %v, max %v; push to first 200 p50 %v, max %v; first to last of %d pods p50 %v, max %v",
			len(toPush), len(routes), ms(median(toPush)), ms(slices.Max(toPush)), ms(median(fromPush)), ms(slices.Max(fromPush)),
			len(pushes), ms(median(spread)), ms(slices.Max(spread)))
	}
	slowest := slices.SortedFunc(slices.Values(routes), func(a, b timedRoute) int { return int(b.latency() - a.latency()) })
	for _, r := range slowest[:min(n, len(slowest))] {
		split := "no route table push logged before it was served"
		if first, last, ok := pushesOf(pushes, r); ok {
			split = fmt.Sprintf("push received %v after the create was sent (the last pod's %v), first 200 %v after the push",
				ms(first.Sub(r.start)), ms(last.Sub(r.start)), ms(r.served.Sub(first)))
		}
		b.Logf("slow new route %s: %v; create answered after %v; %s", r.name, ms(r.latency()), ms(r.created.Sub(r.start)), split)
	}
}

// pushesOf returns when the first and the last pod received the first push after r's
// create was sent; ok when the first came before r was served.
func pushesOf(pushes map[string][]time.Time, r timedRoute) (first, last time.Time, ok bool) {
	for _, times := range pushes {
		t, found := firstAfter(times, r.start)
		if !found {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		last = later(last, t)
	}
	return first, last, !first.IsZero() && !first.After(r.served)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// tablePushes returns, per pod, the times, sorted, at which the Gateway's Caddy pods
// logged receiving a route table push on their admin endpoint.
func tablePushes(ctx context.Context, b *testing.B, cfg *envconf.Config, ns, gateway string) map[string][]time.Time {
	out := map[string][]time.Time{}
	for pod, log := range caddyLogs(ctx, b, cfg, ns, gateway) {
		sc := bufio.NewScanner(bytes.NewReader(log))
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var times []time.Time
		for sc.Scan() {
			var e struct {
				TS     float64 `json:"ts"`
				Msg    string  `json:"msg"`
				Method string  `json:"method"`
				URI    string  `json:"uri"`
			}
			if json.Unmarshal(sc.Bytes(), &e) != nil || e.Msg != "received request" || e.Method != http.MethodPost || !strings.HasPrefix(e.URI, caddyjson.TablesPath) {
				continue
			}
			sec, frac := math.Modf(e.TS)
			times = append(times, time.Unix(int64(sec), int64(frac*1e9)))
		}
		if err := sc.Err(); err != nil {
			b.Fatalf("reading the log of pod %s: %v", pod, err)
		}
		slices.SortFunc(times, time.Time.Compare)
		out[pod] = times
	}
	return out
}

// firstAfter is the first of the sorted times at or after t.
func firstAfter(times []time.Time, t time.Time) (time.Time, bool) {
	i, _ := slices.BinarySearchFunc(times, t, time.Time.Compare)
	if i == len(times) {
		return time.Time{}, false
	}
	return times[i], true
}

func median(d []time.Duration) time.Duration { return d[len(d)/2] }

func ms(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }

// pushesBetween is the most route table pushes a pod received from from to to.
func pushesBetween(pushes map[string][]time.Time, from, to time.Time) int {
	most := 0
	for _, times := range pushes {
		i, _ := slices.BinarySearchFunc(times, from, time.Time.Compare)
		j, _ := slices.BinarySearchFunc(times, to, time.Time.Compare)
		most = max(most, j-i)
	}
	return most
}
