package testports

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// helperEnv makes the test binary a helper process: it takes ports, prints them on one
// line and holds them until its stdin closes.
const helperEnv = "TESTPORTS_HELPER_PORTS"

func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(helperEnv)); err == nil {
		helper(n)
		return
	}
	os.Exit(m.Run())
}

func helper(n int) {
	var out []string
	for range n {
		p, err := take()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		out = append(out, strconv.Itoa(p))
	}
	fmt.Println(strings.Join(out, " "))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestTwoProcessesNeverShareAPort starts two processes that take ports at the same time
// and hold them: no port is handed to both.
func TestTwoProcessesNeverShareAPort(t *testing.T) {
	dir := t.TempDir()
	const n = 50
	type proc struct {
		cmd   *exec.Cmd
		stdin io.WriteCloser
		ports chan string
	}
	var procs []*proc
	for range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), helperEnv+"="+strconv.Itoa(n), "TESTPORTS_DIR="+dir)
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		p := &proc{cmd: cmd, stdin: stdin, ports: make(chan string, 1)}
		go func() {
			line, _ := bufio.NewReader(stdout).ReadString('\n')
			p.ports <- strings.TrimSpace(line)
		}()
		procs = append(procs, p)
	}
	for _, p := range procs {
		if err := p.cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	owner := map[string]int{}
	for i, p := range procs {
		line := <-p.ports
		ports := strings.Fields(line)
		if len(ports) != n {
			t.Fatalf("process %d printed %q, want %d ports", i, line, n)
		}
		for _, port := range ports {
			if o, dup := owner[port]; dup {
				t.Errorf("port %s was handed to process %d and process %d", port, o, i)
			}
			owner[port] = i
		}
	}
	for _, p := range procs {
		_ = p.stdin.Close()
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("helper process: %v", err)
		}
	}
}

// TestPortSkipsOneInUse: a port something listens on is not handed out.
func TestPortSkipsOneInUse(t *testing.T) {
	t.Setenv("TESTPORTS_DIR", t.TempDir())
	p := Port(t)
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("the port handed out, %d, is not free: %v", p, err)
	}
	defer ln.Close()
	for range BlockSize - 1 {
		if q := Port(t); q == p {
			t.Fatalf("port %d was handed out while something listens on it", p)
		}
	}
}
