package mirror

import (
	"net/http"
	"sync/atomic"
)

// budget counts the bytes one handler holds for copies — recorded and buffered
// bodies and the copies' headers — against MaxBufferedBytes. A reservation that
// would pass the limit fails, and the copy it was for is dropped.
type budget struct {
	max  int64
	used atomic.Int64
}

// reserve takes n bytes from the budget; it reports false, taking nothing, when
// they do not fit.
func (b *budget) reserve(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// release gives n reserved bytes back.
func (b *budget) release(n int64) { b.used.Add(-n) }

// lease is the reservation of one request's copies: it is released when the last of
// them has ended.
type lease struct {
	b    *budget
	n    int64
	left atomic.Int32
}

func (l *lease) done() {
	if l.left.Add(-1) == 0 {
		l.b.release(l.n)
	}
}

// headerSize approximates the bytes a header holds: its names and values.
func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		n += int64(len(k))
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	return n
}
