package emit_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/ir"
	"github.com/caddy-gateway/operator/internal/translator"
	"github.com/caddy-gateway/operator/internal/translator/fixture"
)

// FuzzEmitLayer4 emits Gateways whose TCP, UDP and TLS servers (fuzzLayer4: the shape
// from one byte string, hostnames and rule names from the others) are added to an
// HTTPS and an HTTP port, and requires that nothing panics, that emitting succeeds and
// that Caddy's own validation accepts the config. The translator's layer4 part is
// fuzzed by FuzzTranslateEmit once it fills them; this one reaches every shape of the
// emitter's, shared TLS ports and hostile server names included.
func FuzzEmitLayer4(f *testing.F) {
	for _, s := range [][]string{
		{"a.example.com,*.example.com", "default/r/rule/0"},
		{"{env.HOME},*.{file./etc/passwd}", `ns/\Q{x}/rule/1`},
		{`*,*.,a)|(.*,\E,` + "\r\n", ""},
		{"", "é/\xff/rule/9"},
	} {
		// The last two shapes give every route every hostname: a shared port with four
		// routes, and a TCP and a UDP server beside a standalone port.
		for _, shape := range [][]byte{{}, {1, 2, 3, 4, 5, 6, 7, 8, 9}, {0xff, 0x80, 0x7f, 0x40, 0x33, 0x22, 0x11, 0x05, 0xfe},
			append([]byte{0, 0, 1, 4}, bytes.Repeat([]byte{1}, 60)...), bytes.Repeat([]byte{1}, 64)} {
			f.Add(shape, s[0], s[1])
		}
	}
	base := translator.Translate(fixture.LoadCase(f, translatorTestdata, "gateway-https-terminate")).IR
	f.Fuzz(func(t *testing.T, shape []byte, hosts, rule string) {
		g := *base
		fuzzLayer4(&g, &shapeReader{b: shape}, strings.Split(hosts, ","), rule)
		res, err := emit.Emit(&g, emit.Options{})
		if err != nil {
			t.Fatalf("emit: %v", err)
		}
		if err := checkTables(res); err != nil {
			t.Fatal(err)
		}
		if err := caddyValidateResult(res); err != nil {
			t.Fatalf("%v\nconfig: %s\ntables: %s", err, res.JSON, tablesRoutes(res))
		}
	})
}

// fuzzLayer4 adds to g (an HTTPS port 443, an HTTP port 80, certificate default/cert)
// up to three TCP and UDP servers from port 9000, up to three TLS ports from 8443, and
// perhaps a TLS server sharing 443, whose routes take their hostnames from hosts.
func fuzzLayer4(g *ir.Gateway, r *shapeReader, hosts []string, rule string) {
	g.TCP, g.UDP, g.TLS = nil, nil, nil
	for i := range r.next() % 4 {
		g.TCP = append(g.TCP, ir.Layer4Server{Port: int32(9000 + i), Listener: "tcp", Route: rule, Backends: fuzzBackends(r)})
	}
	for i := range r.next() % 4 {
		g.UDP = append(g.UDP, ir.Layer4Server{Port: int32(9000 + i), Listener: "udp", Route: rule, Backends: fuzzBackends(r)})
	}
	if r.next()%2 == 1 {
		g.TLS = append(g.TLS, ir.TLSServer{Port: 443, SharedWithHTTPS: true, Routes: fuzzTLSRoutes(r, hosts, rule)})
	}
	for i := range r.next() % 4 {
		g.TLS = append(g.TLS, ir.TLSServer{Port: int32(8443 + i), Routes: fuzzTLSRoutes(r, hosts, rule)})
	}
}

// fuzzTLSRoutes are up to four routes, each with some of hosts (none matches any
// name), passed through or terminated with the Gateway's certificate.
func fuzzTLSRoutes(r *shapeReader, hosts []string, rule string) []ir.TLSRoute {
	var routes []ir.TLSRoute
	for i := range r.next() % 5 {
		rt := ir.TLSRoute{Listener: fmt.Sprintf("tls-%d", i), Route: rule, Backends: fuzzBackends(r)}
		for _, h := range hosts {
			if r.next()%2 == 1 {
				rt.Hostnames = append(rt.Hostnames, h)
			}
		}
		if r.next()%2 == 1 {
			rt.Certificates = []string{"default/cert"}
		}
		routes = append(routes, rt)
	}
	return routes
}

// fuzzBackends are up to three backends of weights 1–4 (the translator leaves out
// backends of weight 0), some invalid.
func fuzzBackends(r *shapeReader) []ir.Backend {
	var bs []ir.Backend
	for i := range r.next() % 4 {
		b := ir.Backend{Address: fmt.Sprintf("svc-%d.default.svc.cluster.local:%d", i, 7000+i), Weight: int32(1 + r.next()%4)}
		if r.next()%5 == 0 {
			b = ir.Backend{Weight: b.Weight, Invalid: true}
		}
		bs = append(bs, b)
	}
	return bs
}
