// Package pusher delivers Caddy configurations to the Caddy pods of a Gateway over the
// mTLS admin channel. It remembers which configuration each pod acknowledged, so an
// unchanged configuration is never sent twice, bounds concurrency and time per pod, and
// keeps Caddy's own error text when Caddy rejects a configuration (Caddy then keeps
// serving the previous one). It knows nothing of Kubernetes objects.
package pusher

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Target is one Caddy pod.
type Target struct {
	// Key identifies the pod's current Caddy process (e.g. pod UID and restart count): a
	// restarted Caddy has a new Key and is pushed to again.
	Key string
	// Name is the pod's name, for messages.
	Name string
	// IP is the pod's IP; the admin-proxy listens on it.
	IP string
	// Acked is the hash the pod is known to run from a durable record (the operator keeps
	// one on the pod), so that a restarted operator does not push unchanged configs again.
	Acked string
}

// Config is one rendered Caddy configuration.
type Config struct {
	// JSON is the body of POST /load.
	JSON []byte
	// Hash identifies JSON.
	Hash string
}

// Request is one push of a Gateway's configuration to its pods.
type Request struct {
	// Gateway identifies the Gateway ("namespace/name"); acknowledgements are kept per
	// Gateway, for its current targets only.
	Gateway string
	// Targets are the pods to configure: all of the Gateway's pods that can take a push.
	Targets []Target
	// Config is what they must run.
	Config Config
	// TLS is the operator's client configuration for this Gateway (certificate, CA,
	// ServerName of the admin-proxy).
	TLS *tls.Config
	// Port is the admin-proxy's port.
	Port int32
}

// Result says how far a push got.
type Result struct {
	// Programmed counts targets that run Config; Total counts all targets.
	Programmed, Total int
	// Pushed counts targets a request was sent to (the others had acknowledged already).
	Pushed int
	// Acknowledged are the targets that took Config in this push, sorted by Key, so the
	// caller can record it durably.
	Acknowledged []Target
	// Errors holds one message per failed target, sorted; Caddy's own text when it
	// rejected the configuration.
	Errors []string
}

// Options tune a Pusher.
type Options struct {
	// Timeout bounds one push to one pod.
	Timeout time.Duration
	// MaxConcurrent bounds the pods pushed to at once.
	MaxConcurrent int
	// Observe, when set, is told the duration and outcome of every push. It is called from
	// several goroutines at once.
	Observe func(d time.Duration, err error)
}

// Pusher pushes configurations and remembers acknowledgements. It is safe for concurrent
// use; pushes for different Gateways run in parallel.
type Pusher struct {
	opts  Options
	mu    sync.Mutex
	acked map[string]map[string]string // Gateway → Target.Key → Config.Hash
}

// New returns a Pusher.
func New(o Options) *Pusher {
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 16
	}
	return &Pusher{opts: o, acked: map[string]map[string]string{}}
}

// Push sends req.Config to every target that has not acknowledged it yet.
func (p *Pusher) Push(ctx context.Context, req Request) Result {
	res := Result{Total: len(req.Targets)}
	acked := p.retain(req.Gateway, req.Targets)
	var todo []Target
	for _, t := range req.Targets {
		if h, ok := acked[t.Key]; (ok && h == req.Config.Hash) || (t.Acked != "" && t.Acked == req.Config.Hash) {
			res.Programmed++
		} else {
			todo = append(todo, t)
		}
	}
	res.Pushed = len(todo)
	if len(todo) == 0 {
		return res
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: req.TLS, DisableKeepAlives: true, ForceAttemptHTTP2: false,
		DialContext: (&net.Dialer{Timeout: p.opts.Timeout}).DialContext,
	}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, p.opts.MaxConcurrent)
	for _, t := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := p.pushOne(ctx, client, req, t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				res.Errors = append(res.Errors, fmt.Sprintf("pod %s: %v", t.Name, err))
				return
			}
			res.Programmed++
			res.Acknowledged = append(res.Acknowledged, t)
		}()
	}
	wg.Wait()
	slices.Sort(res.Errors)
	slices.SortFunc(res.Acknowledged, func(a, b Target) int { return strings.Compare(a.Key, b.Key) })
	return res
}

func (p *Pusher) pushOne(ctx context.Context, client *http.Client, req Request, t Target) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	start := time.Now()
	err := post(ctx, client, "https://"+net.JoinHostPort(t.IP, strconv.Itoa(int(req.Port)))+"/load", req.Config.JSON)
	if p.opts.Observe != nil {
		p.opts.Observe(time.Since(start), err)
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	if m := p.acked[req.Gateway]; m != nil {
		m[t.Key] = req.Config.Hash
	}
	p.mu.Unlock()
	return nil
}

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(r)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return fmt.Errorf("caddy rejected the configuration (%d): %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return fmt.Errorf("admin channel failed (%d): %s", resp.StatusCode, strings.TrimSpace(string(msg)))
}

// retain keeps the acknowledgements of gateway's current targets only and returns a copy.
func (p *Pusher) retain(gateway string, targets []Target) map[string]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	old, next := p.acked[gateway], make(map[string]string, len(targets))
	for _, t := range targets {
		if h, ok := old[t.Key]; ok {
			next[t.Key] = h
		}
	}
	p.acked[gateway] = next
	out := make(map[string]string, len(next))
	for k, v := range next {
		out[k] = v
	}
	return out
}

// Forget drops everything known about a Gateway (it was deleted).
func (p *Pusher) Forget(gateway string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.acked, gateway)
}
