package emit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/caddy-gateway/operator/internal/emit"
	"github.com/caddy-gateway/operator/internal/translator"
)

// TestHashIsSHA256OfJSON checks the hash computed alongside the encoding against the
// SHA-256 of the finished bytes without their "@id", for configs of one and of many
// flushed stretches, and that the admin object carries ConfigID(Hash) once.
func TestHashIsSHA256OfJSON(t *testing.T) {
	for _, n := range []int{1, 1000} {
		res, err := emit.Emit(translator.Translate(generateInput(n)).IR, emit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		field := []byte(`"@id":"` + emit.ConfigID(res.Hash) + `",`)
		if !bytes.HasPrefix(res.JSON, append([]byte(`{"admin":{`), field...)) || bytes.Count(res.JSON, []byte(`"@id"`)) != 1 {
			t.Fatalf("%d routes: the config does not begin with the admin object's %s: %.80s", n, field, res.JSON)
		}
		sum := sha256.Sum256(bytes.Replace(res.JSON, field, nil, 1))
		if want := hex.EncodeToString(sum[:]); res.Hash != want {
			t.Errorf("%d routes (%d bytes): hash %s, SHA-256 of the JSON without its @id %s", n, len(res.JSON), res.Hash, want)
		}
	}
}
