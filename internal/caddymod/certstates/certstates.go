// Package certstates is the Caddy events handler module
// events.handlers.gateway_certificate_states: on certmagic's certificate events it
// records the state of each automatic certificate (obtaining, valid until, failing with
// the CA's message) in the configured storage under acmestore.StateKey, where the
// operator reads it back into listener conditions. It never holds the TLS path for
// long: each record is bounded by Timeout, and a failure to record is logged by Caddy,
// never an abort of the certificate's order.
package certstates

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/caddy-gateway/operator/internal/acmestore"
)

func init() {
	caddy.RegisterModule(Handler{})
}

// DefaultTimeout bounds the recording of one event when Timeout is unset.
const DefaultTimeout = 5 * time.Second

// Handler records certificate states.
type Handler struct {
	// Timeout bounds the storage reads and writes of one event; default DefaultTimeout.
	Timeout caddy.Duration `json:"timeout,omitempty"`

	storage certmagic.Storage
	now     func() time.Time
}

// CaddyModule returns the Caddy module information.
func (Handler) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "events.handlers." + acmestore.RecorderModule,
		New: func() caddy.Module { return new(Handler) },
	}
}

// Provision takes the configured storage: the Gateway's shared storage.
func (h *Handler) Provision(ctx caddy.Context) error {
	h.storage = ctx.Storage()
	if h.storage == nil {
		return fmt.Errorf("%s: no storage is configured", acmestore.RecorderModule)
	}
	if h.Timeout <= 0 {
		h.Timeout = caddy.Duration(DefaultTimeout)
	}
	h.now = time.Now
	return nil
}

// Handle records the state an event says, for cert_obtaining, cert_obtained,
// cert_failed and cert_ocsp_revoked; other events are ignored.
func (h *Handler) Handle(ctx context.Context, e caddy.Event) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(h.Timeout))
	defer cancel()
	switch e.Name() {
	case "cert_obtaining", "cert_obtained", "cert_failed":
		name, _ := e.Data["identifier"].(string)
		if name == "" {
			return fmt.Errorf("%s: %s event names no identifier", acmestore.RecorderModule, e.Name())
		}
		return h.record(ctx, name, e)
	case "cert_ocsp_revoked":
		names, _ := e.Data["subjects"].([]string)
		var errs []error
		for _, name := range names {
			errs = append(errs, h.record(ctx, name, e))
		}
		return errors.Join(errs...)
	}
	return nil
}

// record applies event e to the recorded state of name.
func (h *Handler) record(ctx context.Context, name string, e caddy.Event) error {
	prev, err := h.load(ctx, name)
	if err != nil {
		return err
	}
	ev := Event{Name: e.Name(), Identifier: name, Error: errorText(e.Data["error"])}
	if e.Name() == "cert_obtained" {
		path, _ := e.Data["certificate_path"].(string)
		if ev.NotAfter, err = h.notAfter(ctx, path); err != nil {
			return fmt.Errorf("%s: %s: %w", acmestore.RecorderModule, name, err)
		}
	}
	if e.Name() == "cert_ocsp_revoked" {
		ev.Error = fmt.Sprintf("the certificate was revoked (OCSP revocation reason %v)", e.Data["reason"])
	}
	next, write := Next(prev, ev, h.now())
	if !write {
		return nil
	}
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	if err := h.storage.Store(ctx, acmestore.StateKey(name), b); err != nil {
		return fmt.Errorf("%s: recording the state of %s: %w", acmestore.RecorderModule, name, err)
	}
	return nil
}

// load returns the recorded state of name, nil when there is none.
func (h *Handler) load(ctx context.Context, name string) (*acmestore.CertificateState, error) {
	b, err := h.storage.Load(ctx, acmestore.StateKey(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: reading the state of %s: %w", acmestore.RecorderModule, name, err)
	}
	var st acmestore.CertificateState
	if json.Unmarshal(b, &st) != nil {
		return nil, nil // an unreadable record is replaced
	}
	return &st, nil
}

// notAfter reads the expiry of the certificate stored at path.
func (h *Handler) notAfter(ctx context.Context, path string) (time.Time, error) {
	if path == "" {
		return time.Time{}, errors.New("the event names no certificate_path")
	}
	b, err := h.storage.Load(ctx, path)
	if err != nil {
		return time.Time{}, fmt.Errorf("loading the obtained certificate: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return time.Time{}, fmt.Errorf("the certificate at %s is not PEM", path)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing the certificate at %s: %w", path, err)
	}
	return cert.NotAfter, nil
}

// errorText is the message of an event's error value.
func errorText(v any) string {
	switch e := v.(type) {
	case nil:
		return ""
	case error:
		return e.Error()
	default:
		return fmt.Sprint(e)
	}
}

var (
	_ caddy.Provisioner = (*Handler)(nil)
)
