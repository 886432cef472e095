package wrr

import "github.com/caddyserver/caddy/v2"

// Policy is what the operator's selection modules share: their key and weights, and a
// Picker acquired when Caddy provisions the module and released when it cleans it up. A
// module embeds it and adds only its Caddy module information and its Select.
type Policy struct {
	// Key names the split: configs loaded one after another continue the same
	// sequence of picks when they give the same key and weights. Empty keeps the
	// sequence to this instance.
	Key string `json:"key,omitempty"`
	// Weights are the upstreams' relative shares, in the order of the upstreams;
	// upstreams beyond them, or of weight 0, are never selected.
	Weights []int `json:"weights,omitempty"`

	picker *Picker
}

// Provision joins the state of the key's split.
func (p *Policy) Provision(caddy.Context) error {
	picker, err := Acquire(p.Key, p.Weights)
	if err != nil {
		return err
	}
	p.picker = picker
	return nil
}

// Validate checks the configuration.
func (p *Policy) Validate() error { return Check(p.Weights) }

// Cleanup leaves the state of the key's split.
func (p *Policy) Cleanup() error { return p.picker.Release() }

// Next returns the next index among those available reports true for, or -1 (Picker.Next).
func (p *Policy) Next(available func(i int) bool) int { return p.picker.Next(available) }
