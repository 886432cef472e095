package emit_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddy-gateway/operator/internal/emit"
)

// runtimeFixture is one HTTP listener with one route to backend a.
const runtimeFixture = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: caddy
  listeners: [{name: http, port: PORT, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: default}
spec: {ports: [{port: 8080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {value: /app}}]
    backendRefs: [{name: a, port: 8080}]
`

// startRuntimeDataPlane runs runtimeFixture with opts, its backend a local echo server.
func startRuntimeDataPlane(t *testing.T, opts emit.Options) *dataPlane {
	a := echoBackend(t, "a")
	return startDataPlaneWith(t, runtimeFixture, map[string]string{
		"a.default.svc.cluster.local:8080": a.Listener.Addr().String()}, opts)
}

// logEntry is the part of a JSON log entry the tests read.
type logEntry struct {
	Level   string `json:"level"`
	Logger  string `json:"logger"`
	Msg     string `json:"msg"`
	Status  int    `json:"status"`
	Request struct {
		Method string `json:"method"`
		URI    string `json:"uri"`
	} `json:"request"`
}

// readLog returns the lines of the log file, and those of them that are JSON entries.
func readLog(t *testing.T, path string) (lines []string, entries []logEntry) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
		var e logEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			entries = append(entries, e)
		}
	}
	return lines, entries
}

// waitLog reads the log file until found reports true or two seconds pass: Caddy writes
// an access entry after the response.
func waitLog(t *testing.T, path string, found func(lines []string, entries []logEntry) bool) ([]string, []logEntry) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		lines, entries := readLog(t, path)
		if found(lines, entries) || time.Now().After(deadline) {
			return lines, entries
		}
	}
}

func accessEntry(entries []logEntry, uri string) (logEntry, bool) {
	for _, e := range entries {
		if e.Logger == "http.log.access" && e.Request.URI == uri {
			return e, true
		}
	}
	return logEntry{}, false
}

// TestDataPlaneAccessLogs checks that access logs are written, one structured entry per
// request with its path and status, in the chosen format, and only when turned on.
func TestDataPlaneAccessLogs(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "caddy.log")
		d := startRuntimeDataPlane(t, emit.Options{AccessLogFormat: "json", LogFile: file})
		d.expect("GET", "/app/x?q=1", nil, 200)
		d.expect("GET", "/nothing", nil, 404)
		_, entries := waitLog(t, file, func(_ []string, es []logEntry) bool {
			_, a := accessEntry(es, "/app/x?q=1")
			_, b := accessEntry(es, "/nothing")
			return a && b
		})
		for uri, status := range map[string]int{"/app/x?q=1": 200, "/nothing": 404} {
			e, ok := accessEntry(entries, uri)
			if !ok {
				t.Fatalf("no access log entry for %s in %+v", uri, entries)
			}
			if e.Status != status || e.Request.Method != "GET" {
				t.Errorf("entry for %s: status %d method %q, want %d GET", uri, e.Status, e.Request.Method, status)
			}
		}
	})
	t.Run("console", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "caddy.log")
		d := startRuntimeDataPlane(t, emit.Options{AccessLogFormat: "console", LogFile: file})
		d.expect("GET", "/app/console", nil, 200)
		lines, _ := waitLog(t, file, func(ls []string, _ []logEntry) bool {
			return consoleAccessLine(ls, "/app/console") != ""
		})
		line := consoleAccessLine(lines, "/app/console")
		if line == "" {
			t.Fatalf("no console access log line for /app/console in:\n%s", strings.Join(lines, "\n"))
		}
		if strings.HasPrefix(line, "{") {
			t.Errorf("console access log line is JSON: %s", line)
		}
	})
	t.Run("off", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "caddy.log")
		d := startRuntimeDataPlane(t, emit.Options{LogFile: file})
		d.expect("GET", "/app/quiet", nil, 200)
		time.Sleep(200 * time.Millisecond)
		lines, _ := readLog(t, file)
		if len(lines) == 0 {
			t.Fatal("Caddy wrote nothing to the log file")
		}
		for _, l := range lines {
			if strings.Contains(l, "http.log.access") {
				t.Errorf("access log entry without access logs: %s", l)
			}
		}
	})
}

// consoleAccessLine is the first line of the access logger naming uri, or "".
func consoleAccessLine(lines []string, uri string) string {
	for _, l := range lines {
		if strings.Contains(l, "http.log.access") && strings.Contains(l, uri) {
			return l
		}
	}
	return ""
}

// TestDataPlaneLogLevel checks that the level of Caddy's own log drops entries below it,
// and that access logs are written whatever that level.
func TestDataPlaneLogLevel(t *testing.T) {
	levels := func(entries []logEntry) map[string]int {
		n := map[string]int{}
		for _, e := range entries {
			if e.Logger != "http.log.access" {
				n[e.Level]++
			}
		}
		return n
	}
	t.Run("INFO", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "caddy.log")
		startRuntimeDataPlane(t, emit.Options{LogLevel: "INFO", LogFile: file})
		_, entries := readLog(t, file)
		if n := levels(entries); n["info"] == 0 {
			t.Errorf("no info entries at level INFO: %v", n)
		}
	})
	t.Run("WARN", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "caddy.log")
		d := startRuntimeDataPlane(t, emit.Options{LogLevel: "WARN", AccessLogFormat: "json", LogFile: file})
		d.expect("GET", "/app/warn", nil, 200)
		_, entries := waitLog(t, file, func(_ []string, es []logEntry) bool {
			_, ok := accessEntry(es, "/app/warn")
			return ok
		})
		n := levels(entries)
		if n["info"] != 0 || n["debug"] != 0 {
			t.Errorf("entries below WARN at level WARN: %v", n)
		}
		if n["warn"] == 0 {
			t.Errorf("no warn entries at level WARN: %v", n)
		}
		if _, ok := accessEntry(entries, "/app/warn"); !ok {
			t.Errorf("no access log entry at level WARN: %+v", entries)
		}
	})
}

// childEnv marks the test process TestDataPlaneAccessLogStdout starts.
const childEnv = "EMIT_TEST_ACCESS_LOG_CHILD"

// TestDataPlaneAccessLogStdout checks that access logs go to Caddy's stdout by default.
// Caddy opens stdout once per process and keeps it, so the test runs Caddy in a child
// process of its own and reads that process's stdout.
func TestDataPlaneAccessLogStdout(t *testing.T) {
	if os.Getenv(childEnv) == "1" {
		d := startRuntimeDataPlane(t, emit.Options{AccessLogFormat: "json"})
		d.expect("GET", "/app/stdout", nil, 200)
		time.Sleep(200 * time.Millisecond) // the entry is written after the response
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDataPlaneAccessLogStdout$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("child test: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	var entries []logEntry
	for _, line := range strings.Split(stdout.String(), "\n") {
		var e logEntry
		if json.Unmarshal([]byte(line), &e) == nil {
			entries = append(entries, e)
		}
	}
	if e, ok := accessEntry(entries, "/app/stdout"); !ok || e.Status != 200 {
		t.Errorf("no access log entry for /app/stdout with status 200 on stdout:\n%s", stdout.String())
	}
	// Caddy's own log, on stderr, leaves access entries out.
	if strings.Contains(stderr.String(), "http.log.access") {
		t.Errorf("access log entries on stderr:\n%s", stderr.String())
	}
}
