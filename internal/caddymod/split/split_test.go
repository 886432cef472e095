package split

import (
	"sync/atomic"
	"testing"
)

func TestChooseFollowsWeights(t *testing.T) {
	h := &Handler{Branches: []Branch{{Weight: 3}, {Weight: 1}, {Weight: 2}}, total: 6, next: new(atomic.Uint64)}
	counts := make([]int, 3)
	for range 60 {
		counts[h.choose()]++
	}
	if counts[0] != 30 || counts[1] != 10 || counts[2] != 20 {
		t.Errorf("60 requests split %v, want [30 10 20]", counts)
	}
}

func TestValidate(t *testing.T) {
	cases := map[string]struct {
		h       Handler
		wantErr bool
	}{
		"ok":          {h: Handler{Branches: []Branch{{Weight: 1}}}},
		"no branches": {h: Handler{}, wantErr: true},
		"zero weight": {h: Handler{Branches: []Branch{{Weight: 1}, {Weight: 0}}}, wantErr: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := c.h.Validate(); (err != nil) != c.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, c.wantErr)
			}
		})
	}
}
