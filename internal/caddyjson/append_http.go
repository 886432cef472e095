package caddyjson

func (w *writer) config(c *Config) {
	w.open()
	if a := c.Admin; a != nil {
		w.key("admin")
		w.open()
		w.optStr("listen", a.Listen)
		if a.Config != nil {
			w.key("config")
			w.open()
			if a.Config.Persist != nil {
				w.key("persist")
				w.bool(*a.Config.Persist)
			}
			w.close()
		}
		w.close()
	}
	if c.Logging != nil {
		w.key("logging")
		w.logging(c.Logging)
	}
	if len(c.Storage) > 0 {
		w.key("storage")
		w.marshal(c.Storage)
	}
	w.key("apps")
	w.open()
	if c.Apps.HTTP != nil {
		w.key("http")
		w.httpApp(c.Apps.HTTP)
	}
	if c.Apps.TLS != nil {
		w.key("tls")
		w.tlsApp(c.Apps.TLS)
	}
	if c.Apps.Layer4 != nil {
		w.key("layer4")
		w.layer4App(c.Apps.Layer4)
	}
	if c.Apps.Events != nil {
		// Small and written once per config: encoding/json writes it.
		w.key("events")
		w.marshal(c.Apps.Events)
	}
	w.close()
	w.close()
}

func (w *writer) httpApp(a *HTTPApp) {
	w.open()
	w.optStr("grace_period", a.GracePeriod)
	if len(a.Servers) > 0 {
		w.key("servers")
		writeMap(w, a.Servers, w.server)
	}
	if a.Metrics != nil {
		w.key("metrics")
		w.open()
		if a.Metrics.PerHost {
			w.key("per_host")
			w.bool(true)
		}
		w.close()
	}
	w.close()
}

func (w *writer) server(s *Server) {
	if s == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open()
	w.key("listen")
	w.strs(s.Listen)
	if len(s.ListenerWrappers) > 0 {
		w.key("listener_wrappers")
		writeList(w, s.ListenerWrappers, w.listenerWrapper)
	}
	w.optStr("read_timeout", s.ReadTimeout)
	w.optStr("read_header_timeout", s.ReadHeaderTimeout)
	w.optStr("write_timeout", s.WriteTimeout)
	w.optStr("idle_timeout", s.IdleTimeout)
	if len(s.Routes) > 0 {
		w.key("routes")
		w.routes(s.Routes)
	}
	if len(s.TLSConnectionPolicies) > 0 {
		w.key("tls_connection_policies")
		writeList(w, s.TLSConnectionPolicies, w.connectionPolicy)
	}
	if s.AutoHTTPS != nil {
		w.key("automatic_https")
		w.open()
		if s.AutoHTTPS.Disable {
			w.key("disable")
			w.bool(true)
		}
		w.close()
	}
	w.optStrs("protocols", s.Protocols)
	if s.StrictSNIHost != nil {
		w.key("strict_sni_host")
		w.bool(*s.StrictSNIHost)
	}
	if tp := s.TrustedProxies; tp != nil {
		w.key("trusted_proxies")
		w.open()
		w.key("source")
		w.str(tp.Source)
		w.optStrs("ranges", tp.Ranges)
		w.close()
	}
	if s.TrustedProxiesStrict != 0 {
		w.key("trusted_proxies_strict")
		w.int(s.TrustedProxiesStrict)
	}
	if s.Logs != nil {
		w.key("logs")
		w.open()
		w.close()
	}
	w.close()
}

func (w *writer) listenerWrapper(l *ListenerWrapper) {
	w.open()
	w.key("wrapper")
	w.str(l.Wrapper)
	w.optStr("timeout", l.Timeout)
	w.optStrs("allow", l.Allow)
	if len(l.Routes) > 0 {
		w.key("routes")
		writeList(w, l.Routes, w.layer4Route)
	}
	w.close()
}

// routes writes a route list; nil is null.
func (w *writer) routes(rs []Route) {
	if rs == nil {
		w.b = append(w.b, "null"...)
		return
	}
	writeList(w, rs, w.route)
}

func (w *writer) route(r *Route) {
	w.open()
	if len(r.Match) > 0 {
		w.key("match")
		w.matcherSets(r.Match)
	}
	if len(r.Handle) > 0 {
		w.key("handle")
		w.handlerList(r.Handle)
	}
	if r.Terminal {
		w.key("terminal")
		w.bool(true)
	}
	w.close()
	if len(w.b)-w.flushed >= flushSize {
		w.flushDone()
	}
}

// handlerList writes a non-empty handler list, or copies its bytes when the same
// list was written before.
func (w *writer) handlerList(hs []Handler) {
	k := handleKey{first: &hs[0], n: len(hs)}
	if at, ok := w.handles[k]; ok {
		w.b = append(w.b, w.b[at[0]:at[1]]...)
		return
	}
	start := len(w.b)
	writeList(w, hs, func(h *Handler) { w.handler(*h) })
	if w.handles == nil {
		w.handles = map[handleKey][2]int{}
	}
	w.handles[k] = [2]int{start, len(w.b)}
}

func (w *writer) matcherSets(sets []MatcherSet) {
	writeList(w, sets, w.matcherSet)
}

func (w *writer) matcherSet(m *MatcherSet) {
	w.open()
	w.optStrs("host", m.Host)
	w.optStrs("path", m.Path)
	if m.PathRegexp != nil {
		w.key("path_regexp")
		w.regexp(m.PathRegexp)
	}
	w.optStrs("method", m.Method)
	if len(m.HeaderRegexp) > 0 {
		w.key("header_regexp")
		w.regexpMap(m.HeaderRegexp)
	}
	if m.Query != nil {
		w.key("query")
		w.strListMap(*m.Query)
	}
	if len(m.VarsRegexp) > 0 {
		w.key("vars_regexp")
		w.regexpMap(m.VarsRegexp)
	}
	if len(m.Not) > 0 {
		w.key("not")
		w.matcherSets(m.Not)
	}
	w.optStr("expression", m.Expression)
	w.close()
}

func (w *writer) regexp(r *Regexp) {
	w.open()
	w.optStr("name", r.Name)
	w.key("pattern")
	w.str(r.Pattern)
	w.close()
}
