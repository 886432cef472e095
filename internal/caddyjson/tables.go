package caddyjson

import (
	"encoding/json"
	"strconv"
)

// Route tables: the routes of HTTP listeners live in Caddy apart from its config, so that a
// route change is applied without a config reload. The config (the frame) holds the
// listeners, ports, TLS and server options; where a listener's routes go it holds a
// RouteTable handler naming its table. The tables are sent to Caddy's admin API at
// TablesPath, one host group at a time (HostTable), and kept by Caddy across config loads.

// RouteTable is the "gateway_routes" handler: it serves a request from the host groups of
// its table. The group of the request's exact host is tried first, then the "*.suffix"
// groups that match it, longest suffix first, then the group of any host (""); a group
// none of whose routes matches falls through to the next. Nothing matched answers 404.
type RouteTable struct {
	// Handler is "gateway_routes".
	Handler string `json:"handler"`
	// Table names the table: TableName of the listener's port and hostname.
	Table string `json:"table"`
}

// RouteTableHandler is the module name of RouteTable.
const RouteTableHandler = "gateway_routes"

// TablesPath is the admin API path of the route tables: POST a TablesDelta to change them,
// GET answers a TablesState. A POST is answered
//   - 200 when the whole delta was applied;
//   - 207 with a TablesResult when some host tables of its Set did not provision: each of
//     those keeps the version it had (or stays absent), everything else was applied;
//   - 400 with Caddy's error, and nothing changed, when the delta itself is malformed (not
//     JSON, a bad key, a host table set twice).
const TablesPath = "/gateway-routes"

// TablesResult is the body of a 207 answer to a POST of a TablesDelta.
type TablesResult struct {
	// Error says in one line which host tables failed and why, as Caddy's error answers do.
	Error string `json:"error"`
	// Failed are the host tables of the delta's Set that did not provision, in its order.
	Failed []HostTableError `json:"failed"`
}

// HostTableError is a host table of a delta that did not provision.
type HostTableError struct {
	Table string `json:"table"`
	Host  string `json:"host"`
	// Error is Caddy's error provisioning its routes.
	Error string `json:"error"`
	// Held is the Hash of the version the host table still serves; "" when it has none.
	// When Refused is set, it is the version without the refused sources' routes (the
	// hex SHA-256 of those routes), which the host table now serves.
	Held string `json:"held,omitempty"`
	// Refused are the sources of the host table whose routes did not provision on their
	// own: the host table serves the routes of its other sources, and theirs are left out.
	// Empty when the host table failed whole and keeps its last good version.
	Refused []RefusedSource `json:"refused,omitempty"`
}

// RefusedSource is a source of a host table whose routes Caddy did not provision.
type RefusedSource struct {
	// Key is the RouteSource's key.
	Key string `json:"key"`
	// Error is Caddy's error provisioning the source's routes.
	Error string `json:"error"`
}

// Key is what identifies e among the tables.
func (e *HostTableError) Key() HostKey { return HostKey{Table: e.Table, Host: e.Host} }

// HostTable is the routes of one host group of one table.
type HostTable struct {
	// Table names the table (RouteTable.Table).
	Table string `json:"table"`
	// Host is an exact host, a "*.suffix" wildcard, or "" for any host.
	Host string `json:"host"`
	// Hash identifies Routes: the hex SHA-256 of its bytes.
	Hash string `json:"hash"`
	// Routes is the group's Caddy routes in order, a JSON list as caddyhttp.RouteList reads
	// it; left out of a TablesState.
	Routes json.RawMessage `json:"routes,omitempty"`
	// Sources name the Gateway API route each of Routes comes from, one source per route
	// (a route of no source belongs to none). When the host table does not provision,
	// Caddy provisions each source's routes alone and serves the host table without those
	// of the sources that fail (HostTableError.Refused); without Sources, or when no source
	// fails alone, the host table fails whole. Hash does not cover them. Left out of a
	// TablesState.
	Sources []RouteSource `json:"sources,omitempty"`
}

// RouteSource is the Gateway API route some routes of a host table come from.
type RouteSource struct {
	// Key names the route: RouteSourceKey.
	Key string `json:"key"`
	// Routes are the indexes of its routes in the host table's Routes, ascending.
	Routes []int32 `json:"routes"`
}

// RouteSourceKey is the key of the Gateway API route of kind in namespace with name:
// "<kind>/<namespace>/<name>".
func RouteSourceKey(kind, namespace, name string) string {
	return kind + "/" + namespace + "/" + name
}

// Key is what identifies h among the tables.
func (h *HostTable) Key() HostKey { return HostKey{Table: h.Table, Host: h.Host} }

// HostKey identifies a host table.
type HostKey struct {
	Table string `json:"table"`
	Host  string `json:"host"`
}

// TablesDelta is the body of POST TablesPath. Caddy applies it one host table at a time:
// every host table of Set is provisioned before any replaces the one serving, and one that
// does not provision keeps its last good version while the others are applied, so one
// tenant's bad routes never hold back another's.
type TablesDelta struct {
	// Replace drops every host table Set does not hold: the delta is all there is (a host
	// table of Set that does not provision keeps its last good version).
	Replace bool `json:"replace,omitempty"`
	// Set adds or replaces host tables.
	Set []HostTable `json:"set,omitempty"`
	// Delete drops host tables; a missing one is no error.
	Delete []HostKey `json:"delete,omitempty"`
}

// TablesState is the answer of GET TablesPath: the host tables Caddy holds, without their
// routes, sorted by table and host.
type TablesState struct {
	Tables []HostTable `json:"tables"`
}

// TableName names the route table of the listener with the given hostname ("" for any
// host) on port.
func TableName(port int32, hostname string) string {
	return strconv.Itoa(int(port)) + "/" + hostname
}
