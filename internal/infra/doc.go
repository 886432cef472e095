// Package infra renders the Kubernetes objects of one Gateway's Caddy fleet from the
// Gateway and its merged CaddyProxyConfig: ServiceAccount, bootstrap ConfigMap, Deployment
// or DaemonSet, Service, NetworkPolicy, HorizontalPodAutoscaler, PodDisruptionBudget, with
// the user's patches applied last, and, for a Gateway with automatic certificates, its
// shared certificate storage (Secrets, Leases, a Role on exactly those and its binding),
// with a service account token for the caddy container alone. PlanAddresses decides how the Gateway's spec.addresses
// become the Service's address request, and AddressPlan.Outcome measures a live Service
// against that request (the Gateway's status.addresses and what is not served).
//
// Render, Merge, PlanAddresses and Outcome are pure: no client, no I/O, no clock. Applying the objects (server-side
// apply, pruning, recreation) belongs to the caller.
package infra
