package controller

import (
	"crypto/tls"

	"k8s.io/apimachinery/pkg/types"
)

// adminTLSMemo remembers, per Gateway, the admin client TLS configuration built from its
// client certificate and trust Secrets, or why none could be, with the Gateway's UID and
// the resourceVersions of the two Secrets. While they are the same the configuration is
// the same object, nothing time-dependent goes into it, and a reconcile parses neither
// the key pair nor the bundle. Reusing it keeps the pusher's TLS sessions as a fresh
// build did (same leaf, equal roots); a rotation changes a Secret, so a new
// configuration, so a full handshake.
type adminTLSMemo struct {
	perGateway[adminTLSEntry]
}

// adminTLSKey is what the admin client TLS configuration of a Gateway is built from.
type adminTLSKey struct {
	uid                         types.UID
	clientVersion, trustVersion string
}

type adminTLSEntry struct {
	key    adminTLSKey
	config *tls.Config
	reason string
}

// built returns the configuration, or reason, recorded for gw under key.
func (m *adminTLSMemo) built(gw types.NamespacedName, key adminTLSKey) (adminTLSEntry, bool) {
	e, ok := m.load(gw)
	return e, ok && e.key == key
}

func (m *adminTLSMemo) record(gw types.NamespacedName, e adminTLSEntry) { m.store(gw, e) }
