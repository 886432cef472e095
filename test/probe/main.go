// Command probe runs inside test and demo pods. It reports whether TCP connections can
// be opened (so tests can show what a NetworkPolicy lets through), serves HTTP as a
// backend that echoes what it received, or sends one request and prints the answer:
//
//	probe ADDR...           print "ADDR open" or "ADDR closed: <error>" for each, then sleep
//	probe auth ADDR         an HTTP authorization service: "Authorization: Bearer good" gets
//	                        200 with X-User: alice, anything else 403 "denied by auth"
//	probe serve ADDR NAME   answer every request with NAME, the path and the request headers;
//	                        echo the bytes of an upgraded (WebSocket) connection; stream
//	                        GET /_stream?n=N as N lines, one every 50 ms
//	probe get URL HOST      GET URL with Host HOST until it answers 200 (at most a minute),
//	                        print status and body, then sleep
package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "auth" {
		serveAuth(os.Args[2])
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "serve" {
		serve(os.Args[2], os.Args[3])
		return
	}
	if len(os.Args) == 4 && os.Args[1] == "get" {
		get(os.Args[2], os.Args[3])
		fmt.Println("done")
		time.Sleep(time.Hour)
		return
	}
	for _, addr := range os.Args[1:] {
		c, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err != nil {
			fmt.Printf("%s closed: %v\n", addr, err)
			continue
		}
		_ = c.Close()
		fmt.Printf("%s open\n", addr)
	}
	fmt.Println("done")
	time.Sleep(time.Hour)
}

// serve answers "backend=NAME path=PATH" and one "header K: V" line per request header.
func serve(addr, name string) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket"):
			echoUpgraded(w)
			return
		case r.URL.Path == "/_stream":
			stream(w, r)
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "backend=%s path=%s host=%s\n", name, r.URL.RequestURI(), r.Host)
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "header %s: %s\n", k, strings.Join(r.Header[k], ","))
		}
		_, _ = w.Write([]byte(b.String()))
	})
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 5 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// echoUpgraded switches the connection to the WebSocket protocol and echoes what it reads
// until the client closes it.
func echoUpgraded(w http.ResponseWriter) {
	conn, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer func() { _ = conn.Close() }()
	_, _ = rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	if rw.Flush() != nil {
		return
	}
	echo(conn, rw.Reader)
}

func echo(conn net.Conn, r *bufio.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		if _, err := conn.Write(buf[:n]); err != nil {
			return
		}
	}
}

// stream writes the lines "chunk 0" to "chunk N-1" of ?n=N, one every 50 ms, flushing each.
func stream(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.URL.Query().Get("n"))
	if err != nil || n < 1 {
		http.Error(w, "n must be a positive number", http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	for i := range n {
		if _, err := fmt.Fprintf(w, "chunk %d\n", i); err != nil || rc.Flush() != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// get requests url with the Host header host until it answers 200, for at most a minute.
func get(url, host string) {
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 60; i++ {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		req.Host = host
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK || i == 59 {
				fmt.Printf("%s %s\n%s", resp.Proto, resp.Status, body)
				return
			}
		} else if i == 59 {
			fmt.Println("error:", err)
		}
		time.Sleep(time.Second)
	}
}
