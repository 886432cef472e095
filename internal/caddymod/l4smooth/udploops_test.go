package l4smooth

import (
	"net"
	"testing"
)

// TestUDPSessionIsOnlyCaddyL4s finds no UDP session in connections of other types: a
// stream, and a UDP socket itself; selecting for them watches no loop.
func TestUDPSessionIsOnlyCaddyL4s(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for name, c := range map[string]net.Conn{"pipe": a, "udp socket": pc.(*net.UDPConn), "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if _, _, _, ok := udpSession(c); ok {
				t.Fatalf("%T taken for a caddy-l4 UDP session", c)
			}
			watchSession(c)
			loops.mu.Lock()
			n := len(loops.by)
			loops.mu.Unlock()
			if n != 0 {
				t.Fatalf("%d loops watched", n)
			}
		})
	}
}
