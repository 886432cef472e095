package names

import (
	"strings"
	"testing"
)

func TestChild(t *testing.T) {
	long := strings.Repeat("a", 70)
	tests := map[string]struct {
		base, suffix string
		max          int
		want         string
	}{
		"fits":                  {base: "gw", suffix: "-caddy", max: MaxLabel, want: "gw-caddy"},
		"exact limit":           {base: strings.Repeat("b", 57), suffix: "-caddy", max: MaxLabel, want: strings.Repeat("b", 57) + "-caddy"},
		"shortened":             {base: long, suffix: "-caddy", max: MaxLabel},
		"trailing dash dropped": {base: strings.Repeat("c", 47) + "-" + long, suffix: "-x", max: 59},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Child(tc.base, tc.suffix, tc.max)
			if len(got) > tc.max {
				t.Fatalf("Child() = %q, %d chars > %d", got, len(got), tc.max)
			}
			if !strings.HasSuffix(got, tc.suffix) || strings.Contains(got, "--") {
				t.Fatalf("Child() = %q: bad shape", got)
			}
			if tc.want != "" && got != tc.want {
				t.Fatalf("Child() = %q, want %q", got, tc.want)
			}
			if again := Child(tc.base, tc.suffix, tc.max); again != got {
				t.Fatalf("not deterministic: %q vs %q", got, again)
			}
		})
	}
	if Child(long+"x", "-caddy", MaxLabel) == Child(long+"y", "-caddy", MaxLabel) {
		t.Fatal("distinct long bases collide")
	}
}
