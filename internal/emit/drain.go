package emit

import "github.com/caddy-gateway/operator/internal/caddyjson"

// drainModule is the event handler that holds a stop of the running config (the process
// exiting) while every listener keeps accepting (internal/caddymod/drain).
const drainModule = "gateway_drain"

// withDrain subscribes drainModule to Caddy's "stopping" event with ShutdownDelay, when
// set. Caddy's own apps.http.shutdown_delay is not used: it holds only the HTTP app's
// listeners, while the layer4 app's close at once, and it holds a config reload that
// removes a listener as well, which would keep the push waiting.
func (o Options) withDrain(cfg *caddyjson.Config) {
	if o.ShutdownDelay == "" {
		return
	}
	if cfg.Apps.Events == nil {
		cfg.Apps.Events = &caddyjson.EventsApp{}
	}
	cfg.Apps.Events.Subscriptions = append(cfg.Apps.Events.Subscriptions, caddyjson.EventSubscription{
		Events: []string{"stopping"}, Handlers: []caddyjson.EventHandler{{Handler: drainModule, Delay: o.ShutdownDelay}},
	})
}
