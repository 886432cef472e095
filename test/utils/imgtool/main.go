// Command imgtool builds a single-layer container image tarball from local files, without
// a container engine:
//
//	imgtool -tag localhost/x:dev -o x.tar -file bin/manager:/manager -entrypoint /manager
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/caddy-gateway/operator/test/utils"
)

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	var files, env repeated
	o := utils.ImageOptions{Files: map[string]string{}}
	out := flag.String("o", "", "output tarball")
	entrypoint := flag.String("entrypoint", "", "entrypoint of the image")
	flag.StringVar(&o.Tag, "tag", "", "image reference, e.g. localhost/name:tag")
	flag.StringVar(&o.User, "user", "65532:65532", "user the image runs as")
	flag.Var(&files, "file", "SRC:DST, a local file and its path in the image (repeatable)")
	flag.Var(&env, "env", "KEY=VALUE (repeatable)")
	flag.Parse()
	if o.Tag == "" || *out == "" || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "usage: imgtool -tag REF -o OUT.tar -file SRC:DST [-file ...] [-entrypoint PATH] [-user UID:GID] [-env K=V]")
		os.Exit(2)
	}
	for _, f := range files {
		src, dst, ok := strings.Cut(f, ":")
		if !ok {
			fmt.Fprintf(os.Stderr, "imgtool: -file %q is not SRC:DST\n", f)
			os.Exit(2)
		}
		o.Files[dst] = src
	}
	if *entrypoint != "" {
		o.Entrypoint = []string{*entrypoint}
	}
	o.Env = env
	if err := utils.BuildImageTarball(o, *out); err != nil {
		fmt.Fprintln(os.Stderr, "imgtool:", err)
		os.Exit(1)
	}
}
