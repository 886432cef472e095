package pusher

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
)

// sessions are the TLS sessions of one Gateway's targets, one cache per target: the
// targets share a ServerName, and a session is only good with the Caddy pod that issued
// it. They are made with one client certificate and one set of roots; other ones start
// afresh.
type sessions struct {
	cert  []byte         // the client certificate's leaf, DER; nil when the config names none
	roots *x509.CertPool // the roots the servers were verified with
	byKey map[string]tls.ClientSessionCache
}

// retain keeps the sessions of targets only; nil stays nil.
func (s *sessions) retain(targets []Target) *sessions {
	if s == nil {
		return nil
	}
	next := &sessions{cert: s.cert, roots: s.roots, byKey: make(map[string]tls.ClientSessionCache, len(targets))}
	for _, t := range targets {
		if c, ok := s.byKey[t.Key]; ok {
			next.byKey[t.Key] = c
		}
	}
	return next
}

// sessionConfigs is base for each job, with the job's target's session cache. A nil base
// stays nil.
func (p *Pusher) sessionConfigs(gateway string, base *tls.Config, todo []job) []*tls.Config {
	out := make([]*tls.Config, len(todo))
	if base == nil {
		return out
	}
	var cert []byte
	if len(base.Certificates) > 0 && len(base.Certificates[0].Certificate) > 0 {
		cert = base.Certificates[0].Certificate[0]
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	st := p.gateways[gateway]
	if st == nil { // forgotten meanwhile: no sessions to keep
		st = &gatewayState{}
	}
	if s := st.sessions; s == nil || !bytes.Equal(s.cert, cert) || !rootsEqual(s.roots, base.RootCAs) {
		st.sessions = &sessions{cert: cert, roots: base.RootCAs, byKey: map[string]tls.ClientSessionCache{}}
	}
	for i, j := range todo {
		c := st.sessions.byKey[j.Key]
		if c == nil {
			c = tls.NewLRUClientSessionCache(1)
			st.sessions.byKey[j.Key] = c
		}
		out[i] = base.Clone()
		out[i].ClientSessionCache = c
	}
	return out
}

// rootsEqual reports whether a and b hold the same certificates (both nil: the system's).
func rootsEqual(a, b *x509.CertPool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(b)
}
