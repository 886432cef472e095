package emit

import (
	"crypto/sha256"
	"hash"
)

// hasher computes the SHA-256 of a config on its own goroutine while the config is
// still being encoded (caddyjson.Config.AppendJSONFlushing): with a second core the
// hash of a large config costs no wall time.
type hasher struct {
	chunks chan []byte
	done   chan []byte
}

func startHasher() *hasher {
	h := &hasher{chunks: make(chan []byte, 32), done: make(chan []byte, 1)}
	go func(d hash.Hash) {
		for c := range h.chunks {
			d.Write(c)
		}
		h.done <- d.Sum(nil)
	}(sha256.New())
	return h
}

// write adds p, which must not change afterwards, to the hashed bytes.
func (h *hasher) write(p []byte) { h.chunks <- p }

// sum ends the hash and returns it; the hasher must not be used afterwards.
func (h *hasher) sum() []byte {
	close(h.chunks)
	return <-h.done
}
