// Package acmestore is the contract between a Gateway's Caddy pods and the operator
// about automatic certificates: where the pods keep their ACME accounts, certificates
// and locks in the cluster (a fixed set of Secrets and Leases in the Gateway's
// namespace, which the operator creates and only that Gateway's pods may change), how
// a storage key maps onto them, and the state each pod records of each certificate,
// which the operator reads back into listener conditions. It is pure.
package acmestore

import (
	"time"

	"github.com/caddy-gateway/operator/internal/names"
)

// Caddy module names of the storage and of the recorder of certificate states.
const (
	// StorageModule is "caddy.storage.<StorageModule>".
	StorageModule = "gateway_secrets"
	// RecorderModule is "events.handlers.<RecorderModule>".
	RecorderModule = "gateway_certificate_states"
)

// Shards is how many Secrets (and Leases) one Gateway's storage spreads over. A Secret
// holds at most 1 MiB; a certificate with its key and metadata takes about 6 KiB.
const Shards = 4

// StorageConfig is the JSON configuration of the storage module.
type StorageConfig struct {
	// Namespace of the Secrets and Leases: the Gateway's.
	Namespace string `json:"namespace"`
	// Secrets hold the stored keys; a key lives in Secrets[Shard(key)].
	Secrets []string `json:"secrets"`
	// Leases are the locks; a lock name is held in Leases[Shard(name)].
	Leases []string `json:"leases"`
}

// For returns the storage configuration of the Gateway namespace/name.
func For(namespace, gateway string) StorageConfig {
	c := StorageConfig{Namespace: namespace}
	for i := range Shards {
		c.Secrets = append(c.Secrets, SecretName(gateway, i))
		c.Leases = append(c.Leases, LeaseName(gateway, i))
	}
	return c
}

// SecretName is the name of the i-th storage Secret of a Gateway.
func SecretName(gateway string, i int) string {
	return names.Child(gateway, "-caddy-acme-"+string(rune('0'+i)), names.MaxSubdomain)
}

// LeaseName is the name of the i-th lock Lease of a Gateway.
func LeaseName(gateway string, i int) string {
	return names.Child(gateway, "-caddy-acme-lock-"+string(rune('0'+i)), names.MaxSubdomain)
}

// Phase is where an automatic certificate stands.
type Phase string

// Phases of a certificate.
const (
	// Obtaining: an order is under way and no valid certificate is held yet.
	Obtaining Phase = "Obtaining"
	// Valid: a certificate is held and not expired (a renewal may be under way).
	Valid Phase = "Valid"
	// Failing: the last order or renewal failed; Error says why.
	Failing Phase = "Failing"
)

// CertificateState is what the Gateway's pods last recorded of one automatic
// certificate.
type CertificateState struct {
	// Name is the certificate's hostname.
	Name string `json:"name"`
	// Phase is where it stands.
	Phase Phase `json:"phase"`
	// NotAfter is the expiry of the certificate held; zero when none is.
	NotAfter time.Time `json:"notAfter,omitzero"`
	// Error is the CA's (or the storage's) message of the last failure.
	Error string `json:"error,omitempty"`
	// Updated is when the state was recorded.
	Updated time.Time `json:"updated"`
}
