package routetable

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// maxDelta bounds the body of a POST: all host tables of a large fleet fit.
const maxDelta = 64 << 20

// Admin is the admin API module at caddyjson.TablesPath: POST a caddyjson.TablesDelta
// (answered 207 with a caddyjson.TablesResult when host tables of it did not provision),
// GET the caddyjson.TablesState.
type Admin struct{}

// CaddyModule returns the Caddy module information.
func (Admin) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.gateway_routes",
		New: func() caddy.Module { return new(Admin) },
	}
}

// Routes returns the admin route of the route tables.
func (Admin) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: caddyjson.TablesPath, Handler: caddy.AdminHandlerFunc(serveAdmin)}}
}

func serveAdmin(w http.ResponseWriter, r *http.Request) error {
	switch r.Method {
	case http.MethodGet:
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(reg.state())
	case http.MethodPost:
		d, err := decodeDelta(w, r)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
		res, err := reg.apply(d)
		if err != nil {
			return caddy.APIError{HTTPStatus: http.StatusBadRequest, Err: err}
		}
		if len(res.Failed) == 0 {
			return nil
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultiStatus)
		return json.NewEncoder(w).Encode(res)
	default:
		w.Header().Set("Allow", "GET, POST")
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method %s not allowed", r.Method)}
	}
}

// decodeDelta reads one TablesDelta, refusing unknown fields, trailing data, and a
// body cut off or larger than maxDelta.
func decodeDelta(w http.ResponseWriter, r *http.Request) (*caddyjson.TablesDelta, error) {
	if r.ContentLength > maxDelta {
		return nil, fmt.Errorf("decoding the tables delta: body of %d bytes is over the limit of %d", r.ContentLength, maxDelta)
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxDelta))
	dec.DisallowUnknownFields()
	var d caddyjson.TablesDelta
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decoding the tables delta: %w", err)
	}
	switch _, err := dec.Token(); {
	case err == nil:
		return nil, errors.New("decoding the tables delta: data after the delta")
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("decoding the tables delta: %w", err)
	}
	return &d, nil
}

// Interface guard.
var _ caddy.AdminRouter = Admin{}
