package wrr

import (
	"fmt"
	"slices"
	"testing"
)

// picks returns n picks of p with every index available.
func picks(p *Picker, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = p.Next(nil)
	}
	return out
}

// windowCounts counts the indices of seq[start:start+n].
func windowCounts(seq []int, start, n, size int) []int {
	c := make([]int, size)
	for _, i := range seq[start : start+n] {
		c[i]++
	}
	return c
}

func sum(ws []int) int {
	t := 0
	for _, w := range ws {
		t += w
	}
	return t
}

func TestEveryWindowOfTheTotalIsExact(t *testing.T) {
	for _, ws := range [][]int{{95, 5}, {90, 10}, {3, 1, 2}, {1, 1}, {5, 0, 3, 2}, {7}, {50, 30, 15, 4, 1}} {
		t.Run(fmt.Sprint(ws), func(t *testing.T) {
			p, err := Acquire("", ws)
			if err != nil {
				t.Fatal(err)
			}
			total := sum(ws)
			seq := picks(p, 4*total)
			for start := 0; start+total <= len(seq); start++ {
				if got := windowCounts(seq, start, total, len(ws)); !slices.Equal(got, ws) {
					t.Fatalf("picks %d..%d split %v, want %v", start, start+total, got, ws)
				}
			}
		})
	}
}

func TestAnyHundredPicksWithinTwo(t *testing.T) {
	for _, ws := range [][]int{{95, 5}, {90, 10}, {19, 1}, {9, 1}} {
		t.Run(fmt.Sprint(ws), func(t *testing.T) {
			p, _ := Acquire("", ws)
			seq := picks(p, 1000)
			total := sum(ws)
			for start := 0; start+100 <= len(seq); start++ {
				got := windowCounts(seq, start, 100, len(ws))
				for i, w := range ws {
					if want := 100 * w / total; got[i] < want-2 || got[i] > want+2 {
						t.Fatalf("picks %d..%d split %v, want %d ±2 for index %d", start, start+100, got, want, i)
					}
				}
			}
		})
	}
}

func TestPicksAreInterleaved(t *testing.T) {
	// 95/5: the light index comes once every 20 picks, never in a run.
	p, _ := Acquire("", []int{95, 5})
	last := -1
	for n, i := range picks(p, 300) {
		if i != 1 {
			continue
		}
		if last >= 0 && n-last != 20 {
			t.Fatalf("light picks at %d and %d, want 20 apart", last, n)
		}
		last = n
	}
}

func TestStateOutlivesAReload(t *testing.T) {
	ws := []int{90, 10}
	ref, _ := Acquire("", ws)
	want := picks(ref, 250)

	// Each "config" is a Picker of the same key; the next is acquired before the
	// previous is released, as Caddy provisions a new config before cleaning up the old.
	old, err := Acquire("ns/route/rule/0", ws)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, n := range []int{37, 1, 100, 112} {
		got = append(got, picks(old, n)...)
		next, err := Acquire("ns/route/rule/0", ws)
		if err != nil {
			t.Fatal(err)
		}
		if err := old.Release(); err != nil {
			t.Fatal(err)
		}
		old = next
	}
	t.Cleanup(func() { _ = old.Release() })
	if !slices.Equal(got, want) {
		t.Errorf("picks across reloads %v, want one uninterrupted sequence %v", got, want)
	}
}

func TestStateStartsAfreshOnChange(t *testing.T) {
	fresh := func(ws []int, n int) []int { p, _ := Acquire("", ws); return picks(p, n) }
	a, _ := Acquire("k", []int{1, 1})
	first := picks(a, 3)

	// Other weights under the same key: a state of their own, from the start.
	b, _ := Acquire("k", []int{2, 1})
	if got, want := picks(b, 6), fresh([]int{2, 1}, 6); !slices.Equal(got, want) {
		t.Errorf("changed weights picked %v, want a fresh %v", got, want)
	}
	// More candidates: the same.
	c, _ := Acquire("k", []int{1, 1, 1})
	if got, want := picks(c, 6), fresh([]int{1, 1, 1}, 6); !slices.Equal(got, want) {
		t.Errorf("added candidate picked %v, want a fresh %v", got, want)
	}
	// The unchanged weights kept their place.
	a2, _ := Acquire("k", []int{1, 1})
	if got, want := append(first, picks(a2, 3)...), fresh([]int{1, 1}, 6); !slices.Equal(got, want) {
		t.Errorf("unchanged weights picked %v, want %v", got, want)
	}
	for _, p := range []*Picker{a, a2, b, c} {
		if err := p.Release(); err != nil {
			t.Fatal(err)
		}
	}
	// Released by all: the next config of that key starts afresh.
	d, _ := Acquire("k", []int{1, 1})
	defer d.Release()
	if got, want := picks(d, 3), fresh([]int{1, 1}, 3); !slices.Equal(got, want) {
		t.Errorf("after release picked %v, want a fresh %v", got, want)
	}
}

func TestUnavailableIndicesSitOut(t *testing.T) {
	p, _ := Acquire("", []int{5, 3, 2})
	counts := make([]int, 3)
	for range 70 {
		counts[p.Next(func(i int) bool { return i != 0 })]++
	}
	if !slices.Equal(counts, []int{0, 42, 28}) {
		t.Errorf("index 0 unavailable: split %v, want [0 42 28] (3:2)", counts)
	}
	if got := p.Next(func(int) bool { return false }); got != -1 {
		t.Errorf("none available: picked %d, want -1", got)
	}
}

func TestCheck(t *testing.T) {
	cases := map[string]struct {
		weights []int
		wantErr bool
	}{
		"ok":        {weights: []int{1, 0}},
		"none":      {wantErr: true},
		"negative":  {weights: []int{2, -1}, wantErr: true},
		"all zero":  {weights: []int{0, 0}, wantErr: true},
		"one alone": {weights: []int{3}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := Acquire("check", c.weights)
			if (err != nil) != c.wantErr {
				t.Errorf("Acquire(%v) error %v, want error %v", c.weights, err, c.wantErr)
			}
			_ = p.Release()
		})
	}
}

func TestConcurrentPicksKeepTheWeights(t *testing.T) {
	p, _ := Acquire("", []int{95, 5})
	const goroutines, each = 8, 1000
	counts := make(chan [2]int, goroutines)
	for range goroutines {
		go func() {
			var c [2]int
			for range each {
				c[p.Next(nil)]++
			}
			counts <- c
		}()
	}
	var total [2]int
	for range goroutines {
		c := <-counts
		total[0], total[1] = total[0]+c[0], total[1]+c[1]
	}
	if total != [2]int{7600, 400} {
		t.Errorf("%d concurrent picks split %v, want [7600 400]", goroutines*each, total)
	}
}
