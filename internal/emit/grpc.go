package emit

import "github.com/caddy-gateway/operator/internal/caddyjson"

// invalidBackendRoutes answer the share of requests that goes to an invalid backendRef:
// 500 as the HTTPRoute spec requires, but 503 for gRPC requests (Content-Type
// application/grpc...), which gRPC clients read as UNAVAILABLE, the status the
// GRPCRoute spec requires. The server is reached over the rule's transport, HTTP/1.1 or
// h2c; Caddy's cleartext servers accept both.
func invalidBackendRoutes() []caddyjson.Route {
	return []caddyjson.Route{
		{
			Match:    []caddyjson.MatcherSet{{HeaderRegexp: caddyjson.RegexpMap{{Key: "Content-Type", Value: caddyjson.Regexp{Pattern: `^application/grpc`}}}}},
			Handle:   []caddyjson.Handler{status(503)},
			Terminal: true,
		},
		{Handle: []caddyjson.Handler{status(500)}},
	}
}
