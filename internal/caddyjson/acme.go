package caddyjson

// TLSAutomation is caddytls.AutomationConfig: how managed certificates are obtained.
type TLSAutomation struct {
	// Policies apply to the names of their Subjects; a policy without subjects applies
	// to every other name (the catch-all, which on-demand issuance uses).
	Policies []AutomationPolicy `json:"policies,omitempty"`
	// OnDemand decides which names may be obtained at a handshake.
	OnDemand *OnDemand `json:"on_demand,omitempty"`
	// RenewInterval is how often managed certificates are checked for renewal
	// (duration string); Caddy's default is 10m.
	RenewInterval string `json:"renew_interval,omitempty"`
}

// AutomationPolicy is caddytls.AutomationPolicy.
type AutomationPolicy struct {
	// Subjects are the names the policy applies to; none applies to any name.
	Subjects []string `json:"subjects,omitempty"`
	// Issuers obtain the certificates, tried in order.
	Issuers []ACMEIssuer `json:"issuers,omitempty"`
	// OnDemand obtains certificates at the first handshake for a name, when
	// OnDemand.Permission allows it.
	OnDemand bool `json:"on_demand,omitempty"`
}

// ACMEIssuer is caddytls.ACMEIssuer ("acme"), or the operator's "gateway_acme"
// (internal/caddymod/acmeroots), which is the same with TrustedRootsPEM.
type ACMEIssuer struct {
	// Module is "acme" or "gateway_acme".
	Module string `json:"module"`
	// CA is the ACME directory URL.
	CA string `json:"ca,omitempty"`
	// Email is the account's contact address.
	Email string `json:"email,omitempty"`
	// ExternalAccount binds the account to one the CA knows (acme.EAB).
	ExternalAccount *ExternalAccount `json:"external_account,omitempty"`
	// Challenges configures (and disables) the challenge types.
	Challenges *ACMEChallenges `json:"challenges,omitempty"`
	// TrustedRootsPEM are the CA certificates (PEM) trusted for the directory's TLS
	// ("gateway_acme" only; Caddy's "acme" takes files only).
	TrustedRootsPEM string `json:"trusted_roots_pem,omitempty"`
}

// ExternalAccount is acme.EAB.
type ExternalAccount struct {
	KeyID  string `json:"key_id"`
	MACKey string `json:"mac_key"`
}

// ACMEChallenges is caddytls.ChallengesConfig.
type ACMEChallenges struct {
	HTTP    *ACMEChallenge `json:"http,omitempty"`
	TLSALPN *ACMEChallenge `json:"tls-alpn,omitempty"`
	// BindHost is the host the challenge solvers would listen on (they find Caddy's own
	// server there and leave answering to it).
	BindHost string `json:"bind_host,omitempty"`
}

// ACMEChallenge is caddytls.HTTPChallengeConfig or TLSALPNChallengeConfig.
type ACMEChallenge struct {
	Disabled bool `json:"disabled,omitempty"`
	// AlternatePort is the port Caddy's server answering the challenge listens on.
	AlternatePort int32 `json:"alternate_port,omitempty"`
}

// OnDemand is caddytls.OnDemandConfig.
type OnDemand struct {
	// Permission is a tls.permission module.
	Permission *RoutesPermission `json:"permission,omitempty"`
}

// RoutesPermissionModule is the operator's on-demand permission
// (internal/caddymod/ondemand): "tls.permission.<RoutesPermissionModule>".
const RoutesPermissionModule = "gateway_routes"

// RoutesPermission allows an on-demand certificate for a name only when it is under
// the hostname of one of Listeners and the exact host of a route table of that
// listener.
type RoutesPermission struct {
	// Module is RoutesPermissionModule.
	Module string `json:"module"`
	// Listeners are the on-demand listeners.
	Listeners []OnDemandListener `json:"listeners"`
}

// OnDemandListener is one listener issuing certificates on demand.
type OnDemandListener struct {
	// Table is the name of the listener's route table (TableName).
	Table string `json:"table"`
	// Hostname is the listener hostname: "*.suffix", or empty for any name.
	Hostname string `json:"hostname,omitempty"`
}

// EventsApp is caddyevents.App.
type EventsApp struct {
	Subscriptions []EventSubscription `json:"subscriptions,omitempty"`
}

// EventSubscription is caddyevents.Subscription.
type EventSubscription struct {
	// Events are the event names.
	Events []string `json:"events"`
	// Handlers are events.handlers modules.
	Handlers []EventHandler `json:"handlers"`
}

// EventHandler names an events.handlers module and its configuration.
type EventHandler struct {
	Handler string `json:"handler"`
	// Delay is gateway_drain's (duration string).
	Delay string `json:"delay,omitempty"`
}
