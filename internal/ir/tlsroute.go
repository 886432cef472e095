package ir

// TLSServer is one port of TLS listeners, whose connections are routed by the server
// name (SNI) of their TLS ClientHello, before any TLS is terminated.
type TLSServer struct {
	// Port is the listening port.
	Port int32 `json:"port"`
	// SharedWithHTTPS says HTTPS listeners serve the same port: the HTTPServer of the
	// port (in Gateway.HTTP) takes every connection no route here matches. Otherwise
	// such a connection is closed.
	SharedWithHTTPS bool `json:"sharedWithHTTPS,omitempty"`
	// Routes are tried in order, most specific hostname first (exact, then wildcards by
	// length, then the catch-all) among the routes of one listener, and the routes of the
	// most specific listener hostname first; a connection goes to the first whose
	// Hostnames match its server name and whose Except do not.
	Routes []TLSRoute `json:"routes,omitempty"`
}

// TLSRoute is the rule of one TLSRoute on one TLS listener.
type TLSRoute struct {
	// Listener is the name of the Gateway listener the route is attached to.
	Listener string `json:"listener"`
	// Hostnames are the server names served: the intersection of the route's and the
	// listener's hostnames, each exact or "*.suffix" (a wildcard matches one or more
	// labels). Empty matches every server name, and connections without one.
	Hostnames []string `json:"hostnames,omitempty"`
	// Except are server names the route does not take although Hostnames match them:
	// the hostnames of the more specific listeners of the port (TLS listeners, and HTTPS
	// ones when SharedWithHTTPS) that intersect Hostnames, each exact or "*.suffix" as
	// Hostnames are. Such a connection belongs to that listener: it goes on to the
	// routes after this one (and to the HTTPServer when no route takes it).
	Except []string `json:"except,omitempty"`
	// Certificates, when set, terminate TLS with these Gateway certificates (names of
	// Gateway.Certificates; listener mode Terminate) and proxy the decrypted bytes.
	// Empty proxies the connection as it is (mode Passthrough).
	Certificates []string `json:"certificates,omitempty"`
	// Route names the rule whose backends serve the connections,
	// "<namespace>/<name>/rule/<i>".
	Route string `json:"route"`
	// Backends receive connections in proportion to Weight. Invalid backends close the
	// connections of their share. Empty closes every connection.
	Backends []Backend `json:"backends,omitempty"`
}
