package ir

// Layer4Server is one port whose connections (TCP) or sessions (UDP: the datagrams of
// one client address and port) are proxied as they come, to the backends of a TCP or
// UDP listener's route.
type Layer4Server struct {
	// Port is the listening port.
	Port int32 `json:"port"`
	// Listener is the name of the Gateway listener on the port.
	Listener string `json:"listener"`
	// Route names the rule whose backends serve the port, "<namespace>/<name>/rule/<i>":
	// the oldest route attached to the listener. Empty when no route is attached; the
	// port then closes every connection (drops every datagram).
	Route string `json:"route,omitempty"`
	// Backends receive connections (sessions) in proportion to Weight. Invalid backends
	// close the connections (drop the datagrams) of their share. Empty closes every
	// connection.
	Backends []Backend `json:"backends,omitempty"`
}
