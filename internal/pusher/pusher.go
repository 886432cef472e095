// Package pusher delivers Caddy configurations to the Caddy pods of a Gateway over the
// mTLS admin channel. A configuration is a frame (the body of POST /load) and route tables
// (host tables sent to caddyjson.TablesPath). The pusher remembers which frame and which
// host tables each pod acknowledged and sends only what changed: the changed host tables,
// then the frame if it changed, then the deletion of host tables no longer wanted. A pod it
// knows nothing of (a new pod, a restarted operator) is first asked by the frame's "@id"
// whether it runs the frame and which host tables it holds. It bounds concurrency and time
// per pod, and keeps Caddy's own error text when Caddy rejects a configuration (Caddy then
// keeps serving the previous one). It knows nothing of Kubernetes objects.
package pusher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/caddy-gateway/operator/internal/caddyjson"
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

// Config is one rendered Caddy configuration: the frame and the route tables it serves
// from.
type Config struct {
	// JSON is the frame, the body of POST /load.
	JSON []byte
	// Hash identifies JSON.
	Hash string
	// ID is the "@id" JSON carries (emit.ConfigID(Hash)). When set, a target the Pusher
	// has no memory of is asked GET /id/<ID> first: Caddy answers 200 only while it runs
	// a config carrying ID, and then the frame is not pushed; any other answer costs a push.
	ID string
	// Tables are all the host tables the frame's route-table handlers serve from
	// (emit.Result.Tables): a pod is programmed when it holds exactly these. Each needs a
	// Hash, and no two the same Key.
	Tables []caddyjson.HostTable
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
	// Programmed counts targets that run Config, frame and every host table; Total counts
	// all targets.
	Programmed, Total int
	// Pushed counts targets something was sent to (the others had acknowledged Config
	// already or were found running it).
	Pushed int
	// Verified counts targets the Pusher knew nothing of that were found running Config by
	// asking their Caddy, and so were not pushed to.
	Verified int
	// Bytes counts the request bodies sent to all targets: frames and table deltas.
	Bytes int
	// Errors holds one message per failed target, sorted; Caddy's own text when it
	// rejected the frame or the route tables. A target that only did not take some host
	// tables is not among them: see TableErrors.
	Errors []string
	// TableErrors are the host tables some targets did not take because Caddy could not
	// provision them, sorted by table and host: those targets keep serving the host
	// table's last good version and took everything else. They count as failed targets:
	// not programmed, and tried again after their backoff.
	TableErrors []TableError
	// RetryAfter is when the failed targets are due to be tried again (their backoff); zero
	// when every target runs Config.
	RetryAfter time.Duration
}

// TableError is a host table that some targets did not take.
type TableError struct {
	Table, Host string
	// Error is Caddy's error provisioning it (of the first target in Pods).
	Error string
	// Pods are the names of the targets that did not take it, sorted.
	Pods []string
	// Refused are the sources whose routes those targets left out, serving the host
	// table's other routes (of the first target in Pods); empty when they keep its last
	// good version.
	Refused []caddyjson.RefusedSource
}

// tableErrors collects the host tables targets did not take.
type tableErrors map[caddyjson.HostKey]*TableError

func (te tableErrors) add(pod string, failed []caddyjson.HostTableError) {
	for _, f := range failed {
		e := te[f.Key()]
		if e == nil {
			e = &TableError{Table: f.Table, Host: f.Host, Error: f.Error, Refused: f.Refused}
			te[f.Key()] = e
		}
		e.Pods = append(e.Pods, pod)
	}
}

// sorted lists te by table and host, each one's pods sorted.
func (te tableErrors) sorted() []TableError {
	out := make([]TableError, 0, len(te))
	for _, k := range slices.SortedFunc(maps.Keys(te), compareKeys) {
		e := *te[k]
		slices.Sort(e.Pods)
		out = append(out, e)
	}
	return out
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

// Pusher pushes configurations and remembers, per Gateway, which frame and host tables
// each pod acknowledged and which pushes failed. It is safe for concurrent use; pushes for
// different Gateways run in parallel.
type Pusher struct {
	opts     Options
	mu       sync.Mutex
	gateways map[string]*gatewayState
}

// gatewayState is what a Pusher knows of one Gateway's current targets.
type gatewayState struct {
	acked    map[string]ack     // Target.Key → what it acknowledged
	failed   map[string]failure // Target.Key → its last failed push
	lastPush time.Time          // when the last push that sent anything ended
	sessions *sessions          // the targets' TLS sessions; nil before the first push
}

// failure is a target's last failed push of a configuration.
type failure struct {
	version string // the configuration's version (desired.version)
	n       int    // failures of version in a row
	at      time.Time
	err     string                     // "" when it only did not take host tables
	tables  []caddyjson.HostTableError // the host tables Caddy did not take
}

// New returns a Pusher.
func New(o Options) *Pusher {
	o.Tuning = o.withDefaults()
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Pusher{opts: o, gateways: map[string]*gatewayState{}}
}

// Push brings every target to req.Config, sending each only what it has not acknowledged.
// A target whose last push of the same configuration failed is left alone until its
// backoff has passed.
func (p *Pusher) Push(ctx context.Context, req Request) Result {
	tun := req.Tuning.or(p.opts.Tuning)
	res := Result{Total: len(req.Targets)}
	d, err := want(&req.Config)
	if err != nil {
		for _, t := range req.Targets {
			res.Errors = append(res.Errors, fmt.Sprintf("pod %s: %v", t.Name, err))
		}
		slices.Sort(res.Errors)
		return res
	}
	now := p.opts.Now()
	st := p.retain(req.Gateway, req.Targets)
	tables := tableErrors{}
	var todo []job
	for _, t := range req.Targets {
		f, failed := st.failed[t.Key]
		due := f.at.Add(tun.backoff(f.n))
		a, known := st.acked[t.Key]
		switch {
		case known && a.runs(d):
			res.Programmed++
		case failed && f.version == d.version && now.Before(due):
			wait := due.Sub(now)
			// The same text as when it failed, so a Gateway's status does not change while
			// it waits for the next attempt.
			if f.err != "" {
				res.Errors = append(res.Errors, fmt.Sprintf("pod %s: %s", t.Name, f.err))
			}
			tables.add(t.Name, f.tables)
			res.RetryAfter = minPositive(res.RetryAfter, wait)
		default:
			// Unknown targets are asked first; one the Pusher knows is sent the difference
			// without asking, and one that failed to take a config is sent it whole.
			j := job{Target: t, ask: !known && !failed}
			if known {
				j.acked = &a
			}
			todo = append(todo, j)
		}
	}
	if len(todo) > 0 {
		out := p.send(ctx, req, d, tun, todo)
		res.Programmed += len(out.ran)
		res.Pushed, res.Verified, res.Bytes = out.pushed, out.verified, out.bytes
		res.Errors = append(res.Errors, out.errors...)
		for _, j := range todo {
			tables.add(j.Name, out.tables[j.Key])
		}
		res.RetryAfter = minPositive(res.RetryAfter, p.settle(req.Gateway, d.version, out, tun))
	}
	slices.Sort(res.Errors)
	res.TableErrors = tables.sorted()
	return res
}

// tablesOnly reports whether err is only that Caddy did not take some host tables.
func tablesOnly(err error) bool {
	var te *tablesError
	return errors.As(err, &te)
}

// job is a target to ask or push to.
type job struct {
	Target
	// acked is what the target acknowledged; nil when the Pusher knows nothing of it.
	acked *ack
	// ask asks the target what it runs before pushing.
	ask bool
}

// outcome is what sending a config to some targets achieved.
type outcome struct {
	ran              []Target                              // run the config now
	acked            map[string]*ack                       // Target.Key → what it holds now; nil when unknown
	failed           map[string]string                     // Target.Key → error of the failed push; "" for host tables only
	tables           map[string][]caddyjson.HostTableError // Target.Key → host tables not taken
	errors           []string                              // "pod <name>: <error>" per failed push
	pushed, verified int                                   // targets something was sent to; found running it
	bytes            int                                   // request bodies sent
}

// send asks the jobs that ask and pushes what is missing, at most tun.MaxConcurrent
// targets at a time.
//
// Every push dials its target anew (a kept-alive connection would outlive a NetworkPolicy
// that cuts the operator off), and resumes the target's last TLS session: a handshake
// without certificates, signatures and chain verification.
func (p *Pusher) send(ctx context.Context, req Request, d *desired, tun Tuning, todo []job) outcome {
	dial := (&net.Dialer{Timeout: tun.Timeout}).DialContext
	configs := p.sessionConfigs(req.Gateway, req.TLS, todo)
	var mu sync.Mutex
	var wg sync.WaitGroup
	out := outcome{acked: map[string]*ack{}, failed: map[string]string{}, tables: map[string][]caddyjson.HostTableError{}}
	sem := make(chan struct{}, tun.MaxConcurrent)
	for i, j := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ctx, cancel := context.WithTimeout(ctx, tun.Timeout)
			defer cancel()
			client := &http.Client{Transport: &http.Transport{
				TLSClientConfig: configs[i], DisableKeepAlives: true, ForceAttemptHTTP2: false, DialContext: dial,
			}}
			c := &admin{client: client, base: "https://" + net.JoinHostPort(j.IP, strconv.Itoa(int(req.Port)))}
			start := time.Now()
			r := bring(ctx, c, d, j)
			if r.pushed && p.opts.Observe != nil {
				p.opts.Observe(time.Since(start), r.err)
			}
			mu.Lock()
			defer mu.Unlock()
			out.acked[j.Key] = r.acked
			out.bytes += r.bytes
			if r.pushed {
				out.pushed++
			}
			if r.verified {
				out.verified++
			}
			if r.err != nil {
				out.failed[j.Key] = ""
				if !tablesOnly(r.err) {
					out.errors = append(out.errors, fmt.Sprintf("pod %s: %v", j.Name, r.err))
					out.failed[j.Key] = r.err.Error()
				}
				out.tables[j.Key] = r.failed
				return
			}
			out.ran = append(out.ran, j.Target)
		}()
	}
	wg.Wait()
	return out
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

// settle records the outcome of a push of a configuration version: what each target
// acknowledged, including the steps a failed target did take, and the errors of those that
// do not run it. It returns the backoff of the first failed target to be due again.
func (p *Pusher) settle(gateway, version string, out outcome, tun Tuning) time.Duration {
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
	for key, a := range out.acked {
		if a == nil {
			delete(st.acked, key)
			continue
		}
		st.acked[key] = *a
	}
	for _, t := range out.ran {
		delete(st.failed, t.Key)
	}
	var retry time.Duration
	for key, msg := range out.failed {
		f := st.failed[key]
		if f.version != version {
			f = failure{version: version}
		}
		f.n++
		f.at, f.err, f.tables = now, msg, out.tables[key]
		retry = minPositive(retry, tun.backoff(f.n))
		st.failed[key] = f
	}
	return retry
}

// retain keeps what is known of gateway's current targets only and returns a snapshot.
// Acknowledgements are never changed in place, so the snapshot shares them.
func (p *Pusher) retain(gateway string, targets []Target) gatewayState {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.gateways[gateway]
	if old == nil {
		old = &gatewayState{}
	}
	next := &gatewayState{
		acked: make(map[string]ack, len(targets)), failed: map[string]failure{}, lastPush: old.lastPush,
		sessions: old.sessions.retain(targets),
	}
	for _, t := range targets {
		if a, ok := old.acked[t.Key]; ok {
			next.acked[t.Key] = a
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
