package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/caddy-gateway/operator/internal/adminproxy"
	"github.com/caddy-gateway/operator/internal/certs"
)

// adminProxyCommand is the name of the subcommand that runs the admin-proxy sidecar:
// `manager admin-proxy --listen :2021 --tls-dir /etc/caddy-gateway/tls --socket /run/caddy/admin.sock
// --identity spiffe://caddygateway.io/ns/<namespace>/gateway/<name>`.
const adminProxyCommand = "admin-proxy"

// runAdminProxy parses the subcommand's flags and serves until SIGTERM or SIGINT.
func runAdminProxy(args []string) error {
	fs := flag.NewFlagSet(adminProxyCommand, flag.ContinueOnError)
	listen := fs.String("listen", adminproxy.DefaultListen, "Address of the mTLS admin endpoint.")
	tlsDir := fs.String("tls-dir", adminproxy.DefaultTLSDir, "Directory holding tls.crt, tls.key and ca.crt (a mounted Secret).")
	socket := fs.String("socket", adminproxy.DefaultSocket, "Caddy's admin unix socket.")
	identity := fs.String("identity", certs.OperatorURI, "URI SAN a client certificate must carry: the operator's identity for this pod's Gateway (certs.OperatorIdentity).")
	reload := fs.Duration("reload-interval", adminproxy.DefaultReloadInterval, "How often the TLS files are checked for changes.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected arguments %q", adminProxyCommand, fs.Args())
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	srv, err := adminproxy.New(adminproxy.Options{
		TLSDir: *tlsDir, Socket: *socket, Identity: *identity, ReloadInterval: *reload, Logger: log,
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return srv.ListenAndServe(ctx, *listen)
}
