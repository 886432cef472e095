package gatewaysecrets

import (
	"context"
	"time"

	"github.com/caddyserver/certmagic"
)

// unavailable is the storage of a process that cannot reach the API server: every
// operation fails with err.
type unavailable struct{ err error }

func (u unavailable) Lock(context.Context, string) error                   { return u.err }
func (u unavailable) Unlock(context.Context, string) error                 { return u.err }
func (u unavailable) TryLock(context.Context, string) (bool, error)        { return false, u.err }
func (u unavailable) Store(context.Context, string, []byte) error          { return u.err }
func (u unavailable) Load(context.Context, string) ([]byte, error)         { return nil, u.err }
func (u unavailable) Delete(context.Context, string) error                 { return u.err }
func (u unavailable) Exists(context.Context, string) bool                  { return false }
func (u unavailable) List(context.Context, string, bool) ([]string, error) { return nil, u.err }
func (u unavailable) Stat(context.Context, string) (certmagic.KeyInfo, error) {
	return certmagic.KeyInfo{}, u.err
}
func (u unavailable) RenewLockLease(context.Context, string, time.Duration) error { return u.err }
func (u unavailable) String() string                                              { return "unavailable " + u.err.Error() }

var (
	_ certmagic.Storage          = unavailable{}
	_ certmagic.TryLocker        = unavailable{}
	_ certmagic.LockLeaseRenewer = unavailable{}
)
