// Command probe runs inside test pods. It either reports whether TCP connections can be
// opened, so tests can show what a NetworkPolicy lets through, or serves HTTP as a
// backend that echoes what it received:
//
//	probe ADDR...           print "ADDR open" or "ADDR closed: <error>" for each, then sleep
//	probe serve ADDR NAME   answer every request with NAME, the path and the request headers
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

func main() {
	if len(os.Args) == 4 && os.Args[1] == "serve" {
		serve(os.Args[2], os.Args[3])
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
