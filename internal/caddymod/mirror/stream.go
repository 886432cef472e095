package mirror

import (
	"errors"
	"io"
	"net/http"
	"sync"
)

// recordingBody passes a request body of unknown length through to the next handler
// and keeps a copy of up to MaxBodySize bytes, each reserved in the handler's budget
// as it is recorded. When the body has been read to its end within that size, the
// copies are sent; a larger body, one that does not fit the budget, a read error or
// a body not read to its end before the next handler returns sends nothing and gives
// its bytes back.
type recordingBody struct {
	io.ReadCloser
	h   *Handler
	req *http.Request
	// mu guards what follows: the next handler may read from another goroutine
	// (a proxy's transport does) while ServeHTTP returns.
	mu  sync.Mutex
	buf []byte
	// held is what this recording has reserved in the budget: its header and the
	// capacity of buf.
	held int64
	// done is set once the copies were sent or abandoned.
	done bool
}

// Read reads from the body, recording what passes.
func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return n, err
	}
	if int64(len(b.buf)+n) > b.h.MaxBodySize {
		b.drop()
		return n, err
	}
	if !b.grow(len(b.buf) + n) {
		b.h.logger.Debug("mirror copy dropped: buffer budget spent")
		b.drop()
		return n, err
	}
	b.buf = append(b.buf, p[:n]...)
	switch {
	case errors.Is(err, io.EOF):
		b.done = true
		b.h.send(b.req, b.buf, b.held)
	case err != nil:
		b.drop()
	}
	return n, err
}

// grow makes room for need bytes (at most MaxBodySize), reserving in the budget the
// capacity it adds; false when that does not fit. b.mu is held.
func (b *recordingBody) grow(need int) bool {
	if need <= cap(b.buf) {
		return true
	}
	size := min(max(2*cap(b.buf), need, 512), int(b.h.MaxBodySize))
	if !b.h.buffered.reserve(int64(size - cap(b.buf))) {
		return false
	}
	b.held += int64(size - cap(b.buf))
	buf := make([]byte, len(b.buf), size)
	copy(buf, b.buf)
	b.buf = buf
	return true
}

// abandon drops the recording unless its copies were sent.
func (b *recordingBody) abandon() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.done {
		b.drop()
	}
}

// drop ends the recording without copies and gives its bytes back; b.mu is held.
func (b *recordingBody) drop() {
	b.done, b.buf = true, nil
	b.h.buffered.release(b.held)
	b.held = 0
}
