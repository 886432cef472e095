package emit_test

import (
	"regexp"
	"testing"
)

// tcpChurnConns is the number of connections the weights are measured over while the
// config is pushed after every one or two of them.
const tcpChurnConns = 120

// l4Selection matches the selection block of a layer4 proxy in an emitted config.
var l4Selection = regexp.MustCompile(`"selection":\s*\{[^{}]*\}`)

// withWeightedRoundRobin rewrites every layer4 proxy of cfg to caddy-l4's own
// weighted_round_robin, the policy whose counters start again with every load.
func withWeightedRoundRobin(cfg []byte) []byte {
	return l4Selection.ReplaceAll(cfg, []byte(`"selection":{"policy":"weighted_round_robin"}`))
}

// testTCPWeightsAcrossPushes opens tcpChurnConns connections one after the other to the
// 3:1 listener and pushes the config through the admin-proxy after every one or two
// of them, an unrelated HTTPRoute changed each time: first with the proxies rewritten
// to caddy-l4's weighted_round_robin, then as emitted (gateway_smooth). The emitted
// config keeps 3:1; the rewritten one shows the skew the churn causes without it.
func testTCPWeightsAcrossPushes(t *testing.T, d *dataPlane, ports tcpPorts) {
	push := startAdminPush(t, d)
	churn := 1000 // paths of its own, so that every push differs from the one before
	measure := func(rewrite func([]byte) []byte) (map[string]int, int) {
		got, pushes := map[string]int{}, 0
		for done, step := 0, 1; done < tcpChurnConns; step = 3 - step {
			for i := 0; i < step && done < tcpChurnConns; i++ {
				c, _, name := dialTCP(t, ports.weighted)
				got[name]++
				_ = c.Close()
				done++
			}
			churn++
			res := d.reloadingConfig(tcpFixtureAt(ports, churn))
			res.JSON = rewrite(res.JSON)
			push.load(t, res)
			pushes++
		}
		return got, pushes
	}
	before, pushes := measure(withWeightedRoundRobin)
	after, _ := measure(func(cfg []byte) []byte { return cfg })
	t.Logf("%d connections, a push after every 1–2 (%d pushes): weighted_round_robin a:b %d:%d, gateway_smooth %d:%d",
		tcpChurnConns, pushes, before["a"], before["b"], after["a"], after["b"])
	if want := 3 * tcpChurnConns / 4; after["a"] < want-2 || after["a"] > want+2 || after["a"]+after["b"] != tcpChurnConns {
		t.Errorf("gateway_smooth across pushes: %v, want a %d ±2, b the rest", after, want)
	}
	if before["a"] <= 3*tcpChurnConns/4+2 {
		t.Errorf("weighted_round_robin across pushes gave %v: the churn no longer shows its restart, so it proves nothing for gateway_smooth", before)
	}
}
