package emit_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitHandoff waits until no TCP port has two listening sockets of this process. Caddy
// binds a new config's listeners beside the running ones (SO_REUSEPORT) and the old
// servers close theirs as they shut down, which goes on after the load has returned.
// Until then the kernel hands part of the new connections to the old sockets: the old
// config serves them, or they are closed as those sockets close. A test of what the new
// config serves waits that out. (The reloads themselves are what the route tables avoid.)
func waitHandoff(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		port, err := sharedListenPort()
		switch {
		case err != nil:
			t.Fatal(err)
		case port == 0:
			return
		case time.Now().After(deadline):
			t.Fatalf("port %d still had two listening sockets 5s after a config load", port)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sharedListenPort returns a TCP port on which this process holds more than one
// listening socket, or 0.
func sharedListenPort() (int, error) {
	mine, err := socketInodes()
	if err != nil {
		return 0, err
	}
	listening := map[int]int{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listenSockets(table, mine, listening); err != nil {
			return 0, err
		}
	}
	for port, n := range listening {
		if n > 1 {
			return port, nil
		}
	}
	return 0, nil
}

// socketInodes returns the inodes of this process's sockets.
func socketInodes() (map[string]bool, error) {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	return inodes, nil
}

// listenSockets counts by local port the sockets of table (/proc/net/tcp's format) in
// state LISTEN whose inode is in mine.
func listenSockets(table string, mine map[string]bool, count map[int]int) error {
	f, err := os.Open(table)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !mine[fields[9]] {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if !ok || err != nil {
			return fmt.Errorf("%s: local address %q", table, fields[1])
		}
		count[int(port)]++
	}
	return sc.Err()
}
