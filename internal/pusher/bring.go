package pusher

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/caddy-gateway/operator/internal/caddyjson"
)

// report is what bringing one target to a config achieved.
type report struct {
	// acked is what the target holds now, as far as is known; nil when unknown.
	acked *ack
	// pushed says something was sent; verified that the target was asked and found
	// running the config.
	pushed, verified bool
	// bytes counts the request bodies sent.
	bytes int
	err   error
	// failed are the host tables Caddy did not provision; it kept their last good
	// versions and applied the rest.
	failed []caddyjson.HostTableError
}

// bring sends one target what it lacks of d, in the order that keeps every state it passes
// through servable: the new and changed host tables first, then the frame if it changed,
// then the deletion of the host tables no longer wanted (with the first request when the
// frame is unchanged). A target the Pusher knows nothing of is asked first what it runs and
// holds; when it cannot say, it is sent every host table as a replacement. What each step
// that succeeded acknowledged is kept, also when a later one fails. Host tables Caddy could
// not provision stay recorded at the version it still holds, and the later steps still go.
func bring(ctx context.Context, c *admin, d *desired, j job) (r report) {
	cur := ack{}
	switch {
	case j.acked != nil:
		cur = *j.acked
	case j.ask:
		cur = c.ask(ctx, d)
		if cur.runs(d) {
			return report{acked: &cur, verified: true}
		}
	}
	defer func() {
		if cur.framed || cur.tables != nil {
			r.acked = &cur
		}
	}()
	frame := !cur.runsFrame(d)
	// A pod that holds host tables unknown or none is sent all of them as the whole
	// set: whatever it holds is dropped.
	first := caddyjson.TablesDelta{Replace: cur.tables == nil || (len(cur.tables) == 0 && len(d.cfg.Tables) > 0)}
	var rest []caddyjson.HostKey
	if first.Replace {
		first.Set = d.cfg.Tables
	} else {
		first.Set, rest = cur.diff(d)
		if !frame {
			first.Delete, rest = rest, nil
		}
	}
	if cur.tables == nil || len(first.Set) > 0 || len(first.Delete) > 0 {
		// Host tables Caddy did not provision keep their last good versions: the frame
		// and the deletions still go, so every other host table's change is served.
		if r.err = r.tables(ctx, c, d, &cur, &first); r.err != nil && r.failed == nil {
			return r
		}
	}
	if frame {
		r.pushed = true
		r.bytes += len(d.cfg.JSON)
		if err := c.post(ctx, "/load", d.cfg.JSON); err != nil {
			r.err = err
			return r
		}
		cur.frame, cur.framed = d.cfg.Hash, true
	}
	if len(rest) > 0 {
		if err := r.tables(ctx, c, d, &cur, &caddyjson.TablesDelta{Delete: rest}); err != nil {
			r.err = err
		}
	}
	return r
}

// tables posts delta and records in cur what came of it. A replacement of every host
// table is d's, encoded once for all pods.
func (r *report) tables(ctx context.Context, c *admin, d *desired, cur *ack, delta *caddyjson.TablesDelta) error {
	var body []byte
	var err error
	if delta.Replace {
		body, err = d.replaceBody()
	} else {
		body, err = json.Marshal(delta)
	}
	if err != nil {
		return fmt.Errorf("encoding the route tables: %w", err)
	}
	r.pushed = true
	r.bytes += len(body)
	err = c.post(ctx, caddyjson.TablesPath, body)
	var se *statusError
	var te *tablesError
	switch {
	case err == nil:
		*cur = cur.applied(delta)
	case errors.As(err, &te):
		*cur = cur.applied(delta).holding(te.res.Failed)
		r.failed = append(r.failed, te.res.Failed...)
	case errors.As(err, &se) && se.rejected():
		// Caddy refuses a malformed delta whole: it holds what it held.
	default:
		*cur = cur.unsure(delta)
	}
	return err
}

// admin is the admin API of one target, through its admin-proxy.
type admin struct {
	client *http.Client
	base   string // https://<ip>:<port>
}

// ask asks the target what it runs: whether its frame carries d's ID (GET /id/<ID>
// answers 200 only then) and which host tables it holds. What it cannot answer is left
// unknown.
func (c *admin) ask(ctx context.Context, d *desired) ack {
	var a ack
	if d.cfg.ID != "" {
		if code, _, err := c.get(ctx, "/id/"+url.PathEscape(d.cfg.ID), 64<<10); err == nil && code == http.StatusOK {
			a.frame, a.framed = d.cfg.Hash, true
		}
	}
	code, body, err := c.get(ctx, caddyjson.TablesPath, 64<<20)
	var state caddyjson.TablesState
	if err != nil || code != http.StatusOK || json.Unmarshal(body, &state) != nil {
		return a
	}
	a.tables = make(map[caddyjson.HostKey]string, len(state.Tables))
	for _, t := range state.Tables {
		a.tables[t.Key()] = t.Hash
	}
	return a
}

// get answers the status and at most limit bytes of the body of GET path.
func (c *admin) get(ctx context.Context, path string, limit int64) (int, []byte, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.client.Do(r)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	return resp.StatusCode, body, err
}

// post sends body to path; an answer other than 200 is a *statusError.
func (c *admin) post(ctx context.Context, path string, body []byte) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	r.Header.Set("Content-Type", "application/json")
	resp, err := c.client.Do(r)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusMultiStatus:
		if path == caddyjson.TablesPath {
			return readTablesError(resp.Body)
		}
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return &statusError{code: resp.StatusCode, msg: strings.TrimSpace(string(msg))}
}

// tablesError is Caddy's answer to a delta some host tables of which did not provision:
// it applied the others.
type tablesError struct {
	res caddyjson.TablesResult
}

func (e *tablesError) Error() string {
	return "caddy did not take some host tables (the others are served): " + e.res.Error
}

// readTablesError reads the TablesResult of a 207 answer. One that cannot be read leaves
// open what Caddy applied: it is an error like a lost answer.
func readTablesError(body io.Reader) error {
	var res caddyjson.TablesResult
	if err := json.NewDecoder(io.LimitReader(body, 16<<20)).Decode(&res); err != nil || len(res.Failed) == 0 {
		return &statusError{code: http.StatusMultiStatus, msg: fmt.Sprintf("an answer naming no failed host table (%v)", err)}
	}
	return &tablesError{res: res}
}

// statusError is an answer of the admin API other than 200.
type statusError struct {
	code int
	msg  string
}

// rejected reports whether Caddy (or the admin-proxy) refused the request, changing
// nothing.
func (e *statusError) rejected() bool { return e.code >= 400 && e.code < 500 }

func (e *statusError) Error() string {
	if e.rejected() {
		return fmt.Sprintf("caddy rejected the configuration (%d): %s", e.code, e.msg)
	}
	return fmt.Sprintf("admin channel failed (%d): %s", e.code, e.msg)
}
