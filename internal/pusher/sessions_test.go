package pusher_test

import (
	"context"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/internal/pusher"
)

// TestPushResumesSessions checks that each push dials its pods anew and resumes each
// pod's own TLS session (the pods share a ServerName), and that a new client certificate
// starts with full handshakes.
func TestPushResumesSessions(t *testing.T) {
	p := newPKI(t)
	f := startFleet(t, p, 2, ok)
	push := pusher.New(pusher.Options{})
	req := pusher.Request{Gateway: testGateway, Targets: f.targets(), TLS: p.clientTLS(t, p.serverName), Port: f.port}
	// counts is, per pod, the requests and the resumed ones.
	counts := func() (hits, resumed [2]int64) {
		for i, pd := range f.pods {
			hits[i], resumed[i] = pd.hits.Load(), pd.resumed.Load()
		}
		return hits, resumed
	}
	for i, hash := range []string{"a", "b", "c"} {
		req.Config = config(hash)
		if res := push.Push(context.Background(), req); res.Programmed != 2 || res.Pushed != 2 {
			t.Fatalf("push %d: %+v", i, res)
		}
	}
	hits, resumed := counts()
	for i := range f.pods {
		// A request per connection: only the first connection to each pod is a full
		// handshake.
		if hits[i] < 4 || resumed[i] != hits[i]-1 {
			t.Fatalf("pod %d: %d requests, %d of them on resumed sessions; want all but the first", i, hits[i], resumed[i])
		}
	}

	// The operator's client certificate is reissued: its sessions are not used.
	client, err := p.ca.IssueClient(certs.IssueOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	p.client = client
	req.TLS = p.clientTLS(t, p.serverName)
	for i, hash := range []string{"d", "e"} {
		req.Config = config(hash)
		if res := push.Push(context.Background(), req); res.Programmed != 2 || res.Pushed != 2 {
			t.Fatalf("push %d after the reissue: %+v", i, res)
		}
	}
	after, resumedAfter := counts()
	for i := range f.pods {
		if n, r := after[i]-hits[i], resumedAfter[i]-resumed[i]; n != 2 || r != 1 {
			t.Fatalf("pod %d after the reissue: %d requests, %d on resumed sessions; want 2 and 1", i, n, r)
		}
	}
}
