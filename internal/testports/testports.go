// Package testports hands tests the loopback port numbers they give to servers they do not
// listen with themselves (a Caddy config, an admin-proxy), so that no two test processes on
// the machine get the same number. Listening on port 0 and closing the listener does not do
// that: the kernel hands the same free number to the next process that asks, which then
// reaches the other process's server.
//
// Each process takes a block of ports of its own, below the kernel's ephemeral range (which
// port 0 and outgoing connections use): block i is held while the process holds an
// exclusive flock on the file block-<i> in the lock directory, which the kernel releases when
// the process ends, however it ends. Within its block a process hands out each port in turn,
// skipping one that something else listens on.
package testports

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
)

const (
	// first is the first port of block 0; the blocks end below 32768, where Linux's
	// ephemeral range starts by default.
	first = 20000
	// BlockSize is the number of ports of one block.
	BlockSize = 400
	// blocks is the number of blocks: test processes that can run at once.
	blocks = 30
)

// Dir is the lock directory; TESTPORTS_DIR overrides it (for tests of this package).
func Dir() string {
	if d := os.Getenv("TESTPORTS_DIR"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "caddy-gateway-testports")
}

var (
	mu sync.Mutex
	// lock is the open lock file of the process's block; it is kept open (and so locked)
	// until the process ends.
	lock  *os.File
	block int
	next  int // the index in the block of the next port to try
)

// Port returns a port of 127.0.0.1 that nothing listens on, TCP or UDP, and that no other
// process using this package is handed while this process runs. A process is handed its
// block's ports in turn, again from the start once all were handed out.
func Port(tb testing.TB) int {
	tb.Helper()
	p, err := take()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func take() (int, error) {
	mu.Lock()
	defer mu.Unlock()
	if lock == nil {
		f, b, err := claim(Dir())
		if err != nil {
			return 0, err
		}
		lock, block = f, b
	}
	for range BlockSize {
		p := first + block*BlockSize + next
		next = (next + 1) % BlockSize
		if free(p) {
			return p, nil
		}
	}
	return 0, fmt.Errorf("testports: no port of block %d (%d-%d) is free", block, first+block*BlockSize, first+(block+1)*BlockSize-1)
}

// claim locks the first block no other process holds.
func claim(dir string) (*os.File, int, error) {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, 0, fmt.Errorf("testports: %w", err)
	}
	for b := range blocks {
		f, err := os.OpenFile(filepath.Join(dir, "block-"+strconv.Itoa(b)), os.O_CREATE|os.O_RDWR, 0o666)
		if err != nil {
			return nil, 0, fmt.Errorf("testports: %w", err)
		}
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, b, nil
		}
		_ = f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, 0, fmt.Errorf("testports: locking %s: %w", f.Name(), err)
		}
	}
	return nil, 0, fmt.Errorf("testports: all %d port blocks are held by other processes (lock files in %s)", blocks, dir)
}

// free reports whether nothing listens on port of 127.0.0.1, TCP or UDP.
func free(port int) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	defer func() { _ = ln.Close() }()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return false
	}
	_ = pc.Close()
	return true
}
