// Package pusher delivers Caddy configurations to the Caddy pods of a Gateway over the
// mTLS admin channel. It remembers which configuration each pod acknowledged, so an
// unchanged configuration is never sent twice; a pod it knows nothing of (a new pod, a
// restarted operator) is first asked by the config's "@id" whether it runs the config
// already. It bounds concurrency and time per pod, and
// keeps Caddy's own error text when Caddy rejects a configuration (Caddy then keeps
// serving the previous one). It knows nothing of Kubernetes objects.
package pusher

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
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
}

// Config is one rendered Caddy configuration.
type Config struct {
	// JSON is the body of POST /load.
	JSON []byte
	// Hash identifies JSON.
	Hash string
	// ID is the "@id" JSON carries (emit.ConfigID(Hash)). When set, a target the Pusher
	// has no memory of is asked GET /id/<ID> first: Caddy answers 200 only while it runs
	// a config carrying ID, and then nothing is pushed; any other answer costs a push.
	ID string
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
	// Tuning overrides the Pusher's defaults for this Gateway; zero fields keep them.
	Tuning Tuning
}

// Result says how far a push got.
type Result struct {
	// Programmed counts targets that run Config; Total counts all targets.
	Programmed, Total int
	// Pushed counts targets Config was sent to (the others had acknowledged already or
	// were found running it).
	Pushed int
	// Verified counts targets the Pusher knew nothing of that were found running Config by
	// asking their Caddy, and so were not pushed to.
	Verified int
	// Errors holds one message per failed target, sorted; Caddy's own text when it
	// rejected the configuration.
	Errors []string
	// RetryAfter is when the failed targets are due to be tried again (their backoff); zero
	// when every target runs Config.
	RetryAfter time.Duration
}

// Options tune a Pusher.
type Options struct {
	// Tuning holds the defaults of every Gateway's pushes.
	Tuning
	// Observe, when set, is told the duration and outcome of every push. It is called from
	// several goroutines at once.
	Observe func(d time.Duration, err error)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Pusher pushes configurations and remembers, per Gateway, which configuration each pod
// acknowledged and which pushes failed. It is safe for concurrent use; pushes for
// different Gateways run in parallel.
type Pusher struct {
	opts     Options
	mu       sync.Mutex
	gateways map[string]*gatewayState
}

// gatewayState is what a Pusher knows of one Gateway's current targets.
type gatewayState struct {
	acked    map[string]string  // Target.Key → Config.Hash
	failed   map[string]failure // Target.Key → its last failed push
	lastPush time.Time          // when the last push that sent anything ended
}

// failure is a target's last failed push of a configuration.
type failure struct {
	hash string
	n    int // failures of hash in a row
	at   time.Time
	err  string
}

// New returns a Pusher.
func New(o Options) *Pusher {
	o.Tuning = o.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Pusher{opts: o, gateways: map[string]*gatewayState{}}
}

// Push sends req.Config to every target that has not acknowledged it yet. A target whose
// last push of the same configuration failed is left alone until its backoff has passed.
func (p *Pusher) Push(ctx context.Context, req Request) Result {
	tun := req.Tuning.or(p.opts.Tuning)
	res := Result{Total: len(req.Targets)}
	now := p.opts.Now()
	st := p.retain(req.Gateway, req.Targets)
	var todo []job
	for _, t := range req.Targets {
		f, failed := st.failed[t.Key]
		due := f.at.Add(tun.backoff(f.n))
		switch h, ok := st.acked[t.Key]; {
		case ok && h == req.Config.Hash:
			res.Programmed++
		case failed && f.hash == req.Config.Hash && now.Before(due):
			wait := due.Sub(now)
			// The same text as when it failed, so a Gateway's status does not change while
			// it waits for the next attempt.
			res.Errors = append(res.Errors, fmt.Sprintf("pod %s: %s", t.Name, f.err))
			res.RetryAfter = minPositive(res.RetryAfter, wait)
		default:
			// Unknown targets are asked first; one the Pusher knows runs another config,
			// or failed to take one, is pushed to without asking.
			todo = append(todo, job{Target: t, verify: req.Config.ID != "" && !ok && !failed})
		}
	}
	if len(todo) == 0 {
		return res
	}
	out := p.send(ctx, req, tun, todo)
	res.Programmed += len(out.acked)
	res.Pushed, res.Verified = out.pushed, out.verified
	res.Errors = append(res.Errors, out.errors...)
	res.RetryAfter = minPositive(res.RetryAfter, p.settle(req.Gateway, req.Config.Hash, out, tun))
	slices.Sort(res.Errors)
	return res
}

// job is a target to ask or push to.
type job struct {
	Target
	// verify asks the target whether it runs the config before pushing.
	verify bool
}

// outcome is what sending a config to some targets achieved.
type outcome struct {
	acked            []Target          // run the config now
	failed           map[string]string // Target.Key → error of the failed push
	errors           []string          // "pod <name>: <error>" per failed push
	pushed, verified int               // targets the config was sent to; found running it
}

// send asks the jobs that verify and pushes to the rest and to those not running the
// config, at most tun.MaxConcurrent at a time.
func (p *Pusher) send(ctx context.Context, req Request, tun Tuning, todo []job) outcome {
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: req.TLS, DisableKeepAlives: true, ForceAttemptHTTP2: false,
		DialContext: (&net.Dialer{Timeout: tun.Timeout}).DialContext,
	}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := outcome{failed: map[string]string{}}
	sem := make(chan struct{}, tun.MaxConcurrent)
	for _, j := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if j.verify && runs(ctx, client, req, tun.Timeout, j.Target) {
				mu.Lock()
				defer mu.Unlock()
				out.verified++
				out.acked = append(out.acked, j.Target)
				return
			}
			err := p.pushOne(ctx, client, req, tun.Timeout, j.Target)
			mu.Lock()
			defer mu.Unlock()
			out.pushed++
			if err != nil {
				out.errors = append(out.errors, fmt.Sprintf("pod %s: %v", j.Name, err))
				out.failed[j.Key] = err.Error()
				return
			}
			out.acked = append(out.acked, j.Target)
		}()
	}
	wg.Wait()
	return out
}

// runs asks t's Caddy whether it runs req.Config: GET /id/<ID> answers 200 only while
// the config Caddy runs carries that "@id". Any other answer, or none, is a no.
func runs(ctx context.Context, client *http.Client, req Request, timeout time.Duration, t Target) bool {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := "https://" + net.JoinHostPort(t.IP, strconv.Itoa(int(req.Port))) + "/id/" + url.PathEscape(req.Config.ID)
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(r)
	if err != nil {
		return false
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode == http.StatusOK
}

// Wait is how long the Gateway's next push must wait so that at least the MinInterval of
// tuning lies between the end of its last push and the start of the next. Changes made
// meanwhile are coalesced into that one push.
func (p *Pusher) Wait(gateway string, tuning Tuning) time.Duration {
	tun := tuning.or(p.opts.Tuning)
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.gateways[gateway]
	if st == nil || st.lastPush.IsZero() {
		return 0
	}
	if tun.MinInterval <= 0 {
		return 0
	}
	return max(0, st.lastPush.Add(tun.MinInterval).Sub(p.opts.Now()))
}

func (p *Pusher) pushOne(ctx context.Context, client *http.Client, req Request, timeout time.Duration, t Target) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	err := post(ctx, client, "https://"+net.JoinHostPort(t.IP, strconv.Itoa(int(req.Port)))+"/load", req.Config.JSON)
	if p.opts.Observe != nil {
		p.opts.Observe(time.Since(start), err)
	}
	return err
}

// settle records the outcome of a push of hash: the targets that run it and the errors
// of those that did not take it. It returns the backoff of the first failed target to be
// due again.
func (p *Pusher) settle(gateway, hash string, out outcome, tun Tuning) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.gateways[gateway]
	if st == nil { // forgotten meanwhile
		return 0
	}
	now := p.opts.Now()
	if out.pushed > 0 {
		st.lastPush = now
	}
	for _, t := range out.acked {
		st.acked[t.Key] = hash
		delete(st.failed, t.Key)
	}
	var retry time.Duration
	for key, msg := range out.failed {
		f := st.failed[key]
		if f.hash != hash {
			f = failure{hash: hash}
		}
		f.n++
		f.at, f.err = now, msg
		retry = minPositive(retry, tun.backoff(f.n))
		st.failed[key] = f
	}
	return retry
}

func post(ctx context.Context, client *http.Client, target string, body []byte) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
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

// retain keeps what is known of gateway's current targets only and returns a snapshot.
func (p *Pusher) retain(gateway string, targets []Target) gatewayState {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.gateways[gateway]
	if old == nil {
		old = &gatewayState{}
	}
	next := &gatewayState{
		acked: make(map[string]string, len(targets)), failed: map[string]failure{}, lastPush: old.lastPush,
	}
	for _, t := range targets {
		if h, ok := old.acked[t.Key]; ok {
			next.acked[t.Key] = h
		}
		if f, ok := old.failed[t.Key]; ok {
			next.failed[t.Key] = f
		}
	}
	p.gateways[gateway] = next
	return gatewayState{acked: maps.Clone(next.acked), failed: maps.Clone(next.failed)}
}

// Forget drops everything known about a Gateway (it was deleted).
func (p *Pusher) Forget(gateway string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.gateways, gateway)
}

// minPositive is the smaller of a and b, ignoring zero.
func minPositive(a, b time.Duration) time.Duration {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}
