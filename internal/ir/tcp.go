package ir

// TCPServer is one port whose connections are proxied as raw TCP (a TCP listener).
type TCPServer struct {
	// Port is the listening port.
	Port int32 `json:"port"`
	// Listener is the name of the Gateway listener on the port.
	Listener string `json:"listener"`
	// Route names the rule whose backends serve the port, "<namespace>/<name>/rule/<i>":
	// the oldest route attached to the listener. Empty when no route is attached; the
	// port then closes every connection.
	Route string `json:"route,omitempty"`
	// Backends receive connections in proportion to Weight. Invalid backends close the
	// connections of their share. Empty closes every connection.
	Backends []Backend `json:"backends,omitempty"`
}
