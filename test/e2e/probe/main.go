// Command probe runs inside a test pod and reports whether TCP connections to addresses
// can be opened, so that tests can show what a NetworkPolicy lets through:
//
//	probe ADDR...   prints "ADDR open" or "ADDR closed: <error>" for each, then sleeps
//
// It keeps running so the test can read its log.
package main

import (
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
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
