package acmestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// MaxSecretBytes is the most data the API server lets one Secret hold.
const MaxSecretBytes = 1 << 20

// dataKeyPrefix starts every Secret data key the storage writes.
const dataKeyPrefix = "k."

// Shard is the index, in [0, Shards), of the Secret that holds a storage key and of the
// Lease that holds a lock of that name. It is a stable hash (the first four bytes of
// the key's SHA-256), the same in every pod and every release.
func Shard(key string) int {
	sum := sha256.Sum256([]byte(key))
	return int(binary.BigEndian.Uint32(sum[:4]) % Shards)
}

// DataKey is the Secret data key of a storage key: "k." and the hex SHA-256 of the key,
// which fits the API server's data key syntax ([-._a-zA-Z0-9]+, at most 253 characters)
// for keys of any length and characters. The key itself is kept in the record.
func DataKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return dataKeyPrefix + hex.EncodeToString(sum[:])
}

// Record is one stored key with its value and modification time.
type Record struct {
	// Key is the storage key ("/"-separated, as certmagic writes it).
	Key string
	// Modified is when the value was stored.
	Modified time.Time
	// Value is the stored bytes; its length is the key's size.
	Value []byte
}

// recordVersion starts the header line of an encoded record.
const recordVersion = "r1"

// Encode returns the Secret data value of r: a header line "r1 <modified, Unix
// nanoseconds> <key length>", the key's bytes, then the value's, as they are.
func (r Record) Encode() []byte {
	head := fmt.Sprintf("%s %d %d\n", recordVersion, r.Modified.UnixNano(), len(r.Key))
	out := make([]byte, 0, len(head)+len(r.Key)+len(r.Value))
	out = append(out, head...)
	out = append(out, r.Key...)
	return append(out, r.Value...)
}

// DecodeRecord is the inverse of Record.Encode.
func DecodeRecord(b []byte) (Record, error) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return Record{}, errors.New("storage record has no header line")
	}
	var version string
	var nanos int64
	var keyLen int
	if _, err := fmt.Sscanf(string(b[:i]), "%s %d %d", &version, &nanos, &keyLen); err != nil {
		return Record{}, fmt.Errorf("storage record header %q: %w", b[:i], err)
	}
	if version != recordVersion {
		return Record{}, fmt.Errorf("storage record version %q, want %q", version, recordVersion)
	}
	rest := b[i+1:]
	if keyLen <= 0 || keyLen > len(rest) {
		return Record{}, fmt.Errorf("storage record key length %d out of range (%d bytes follow the header)", keyLen, len(rest))
	}
	return Record{Key: string(rest[:keyLen]), Modified: time.Unix(0, nanos).UTC(), Value: rest[keyLen-0 : len(rest)-0]}, nil
}

// IsDataKey reports whether a Secret data key is one the storage writes.
func IsDataKey(dataKey string) bool {
	return len(dataKey) == len(dataKeyPrefix)+2*sha256.Size && dataKey[:len(dataKeyPrefix)] == dataKeyPrefix
}

// DataSize is the size the API server counts against MaxSecretBytes: the sum of the
// Secret's data values.
func DataSize(data map[string][]byte) int {
	n := 0
	for _, v := range data {
		n += len(v)
	}
	return n
}
