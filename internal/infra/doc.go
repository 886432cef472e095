// Package infra renders the Kubernetes objects of one Gateway's Caddy fleet from the
// Gateway and its merged CaddyProxyConfig: ServiceAccount, bootstrap ConfigMap, Deployment
// or DaemonSet, Service, NetworkPolicy, HorizontalPodAutoscaler, PodDisruptionBudget, with
// the user's patches applied last.
//
// Render and Merge are pure: no client, no I/O, no clock. Applying the objects (server-side
// apply, pruning, recreation) belongs to the caller.
package infra
