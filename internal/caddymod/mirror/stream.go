package mirror

import (
	"errors"
	"io"
	"net/http"
)

// recordingBody passes a request body of unknown length through to the next handler
// and keeps a copy of up to MaxBodySize bytes. When the body has been read to its end
// within that size, the copies are sent; a larger body, a read error or a body never
// read to its end sends nothing.
type recordingBody struct {
	io.ReadCloser
	h   *Handler
	req *http.Request
	buf []byte
	// done is set once the copies were sent or abandoned.
	done bool
}

// Read reads from the body, recording what passes.
func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	if int64(len(b.buf)+n) > b.h.MaxBodySize {
		b.done, b.buf = true, nil
		return n, err
	}
	b.buf = append(b.buf, p[:n]...)
	switch {
	case errors.Is(err, io.EOF):
		b.done = true
		b.h.send(b.req, b.buf)
	case err != nil:
		b.done, b.buf = true, nil
	}
	return n, err
}

// snapshot keeps what a copy needs of r, which later handlers may change.
func snapshot(r *http.Request) *http.Request {
	u := *r.URL
	return &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: r.Header.Clone()}
}
