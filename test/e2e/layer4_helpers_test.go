//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// layer4Timeout bounds each dial, read and write of the TCP and UDP checks.
	layer4Timeout = 3 * time.Second
	// closedInARow is how many consecutive connections must be closed without a byte
	// before the TCP listener counts as refusing a route's backend.
	closedInARow = 5
	// udpDatagrams is how many datagrams one UDP session sends after the first answer.
	udpDatagrams = 50
)

// echoAnswer is what the conformance suite's TCP ("TEST") and UDP echo servers say about
// the pod that answered, and, for UDP, the datagram they received.
type echoAnswer struct {
	Request   string `json:"request"`
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
}

// expectTCPClosed polls until closedInARow consecutive connections to addr are accepted
// and then closed by the Gateway before a single byte arrives.
func expectTCPClosed(ctx context.Context, t *testing.T, addr string) {
	t.Helper()
	var tries []string
	poll(ctx, t, fmt.Sprintf("%d connections in a row to %s accepted and closed without a byte", closedInARow, addr), func(ctx context.Context) error {
		for i := range closedInARow {
			if err := tcpClosed(ctx, addr); err != nil {
				err = fmt.Errorf("connection %d: %w", i+1, err)
				tries = append(tries, err.Error())
				return err
			}
		}
		return nil
	})
	t.Logf("%d connections in a row closed after %d failed tries %q", closedInARow, len(tries), tries)
}

// tcpClosed dials addr and returns nil when the connection opens and then ends (EOF or
// reset) without data; a refused dial is an error, since then nothing listens at all.
func tcpClosed(ctx context.Context, addr string) error {
	conn, err := (&net.Dialer{Timeout: layer4Timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(layer4Timeout))
	b, err := io.ReadAll(conn)
	switch {
	case len(b) > 0:
		return fmt.Errorf("received %q", b)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("still open after %v", layer4Timeout)
	}
	return nil // EOF (io.ReadAll's nil) or a reset
}

// expectTCPEcho polls until a connection to addr reaches the TCP echo server: its welcome,
// PONG for PING, and its description of itself for TEST.
func expectTCPEcho(ctx context.Context, t *testing.T, addr string) echoAnswer {
	t.Helper()
	var got echoAnswer
	poll(ctx, t, "the TCP echo server answers through "+addr, func(ctx context.Context) error {
		var err error
		got, err = tcpEcho(ctx, probeDial, addr)
		return err
	})
	return got
}

// dialFunc dials a connection: probeDial from any port, utils.DialTraffic from a port of
// measured traffic.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

var probeDial dialFunc = (&net.Dialer{Timeout: layer4Timeout}).DialContext

// tcpEcho holds one conversation with the TCP echo server through addr on a connection of
// dial.
func tcpEcho(ctx context.Context, dial dialFunc, addr string) (echoAnswer, error) {
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return echoAnswer{}, err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(layer4Timeout))
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || line != utils.TCPEchoWelcome {
		return echoAnswer{}, fmt.Errorf("welcome: got %q %v", line, err)
	}
	if _, err := conn.Write([]byte("PING\nTEST\n")); err != nil {
		return echoAnswer{}, err
	}
	if line, err := r.ReadString('\n'); err != nil || line != "PONG\n" {
		return echoAnswer{}, fmt.Errorf("PING: got %q %v", line, err)
	}
	line, err := r.ReadBytes('\n')
	if err != nil {
		return echoAnswer{}, fmt.Errorf("TEST: got %q %v", line, err)
	}
	var a echoAnswer
	if err := json.Unmarshal(line, &a); err != nil {
		return echoAnswer{}, fmt.Errorf("TEST: %q: %w", line, err)
	}
	return a, nil
}

// expectUDPEcho polls, each time from a new UDP socket, until a datagram sent to addr is
// answered by the UDP echo server with that datagram.
func expectUDPEcho(ctx context.Context, t *testing.T, addr string) echoAnswer {
	t.Helper()
	var got echoAnswer
	var tries []string
	n := 0
	poll(ctx, t, "the UDP echo server answers through "+addr, func(ctx context.Context) error {
		conn, err := (&net.Dialer{Timeout: layer4Timeout}).DialContext(ctx, "udp", addr)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close() }()
		n++
		if got, err = udpEcho(conn, fmt.Sprintf("first-%d", n)); err != nil {
			tries = append(tries, err.Error())
		}
		return err
	})
	t.Logf("a datagram answered after %d failed tries %q", len(tries), tries)
	return got
}

// udpExchanges sends n datagrams to addr from one UDP socket, one at a time, and returns
// how many were answered with their own content.
func udpExchanges(t *testing.T, addr string, n int) int {
	t.Helper()
	conn, err := net.DialTimeout("udp", addr, layer4Timeout)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	answered := 0
	for i := range n {
		if _, err := udpEcho(conn, fmt.Sprintf("datagram-%d", i)); err != nil {
			t.Logf("datagram %d: %v", i, err)
			continue
		}
		answered++
	}
	return answered
}

// udpEcho sends msg on conn and reads the echo server's answer, which must carry msg.
func udpEcho(conn net.Conn, msg string) (echoAnswer, error) {
	_ = conn.SetDeadline(time.Now().Add(layer4Timeout))
	if _, err := conn.Write([]byte(msg)); err != nil {
		return echoAnswer{}, err
	}
	buf := make([]byte, 2048)
	n, err := conn.Read(buf)
	if err != nil {
		return echoAnswer{}, err
	}
	var a echoAnswer
	if err := json.Unmarshal(buf[:n], &a); err != nil {
		return echoAnswer{}, fmt.Errorf("%q: %w", buf[:n], err)
	}
	if a.Request != msg {
		return a, fmt.Errorf("answer carries %q, want %q", a.Request, msg)
	}
	return a, nil
}
