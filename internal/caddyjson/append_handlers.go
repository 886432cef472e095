package caddyjson

// handler writes one handler struct; unknown types go through encoding/json.
func (w *writer) handler(h Handler) {
	switch v := h.(type) {
	case Subroute:
		w.open()
		w.key("handler")
		w.str(v.Handler)
		w.key("routes")
		w.routes(v.Routes)
		w.close()
	case StaticResponse:
		w.staticResponse(&v)
	case Headers:
		w.headers(&v)
	case Rewrite:
		w.rewrite(&v)
	case ReverseProxy:
		w.reverseProxy(&v)
	case RouteTable:
		w.open()
		w.key("handler")
		w.str(v.Handler)
		w.key("table")
		w.str(v.Table)
		w.close()
	default:
		w.marshal(h)
	}
}

func (w *writer) staticResponse(s *StaticResponse) {
	w.open()
	w.key("handler")
	w.str(s.Handler)
	if s.StatusCode != 0 {
		w.key("status_code")
		w.int(s.StatusCode)
	}
	if len(s.Headers) > 0 {
		w.key("headers")
		w.strListMap(s.Headers)
	}
	w.optStr("body", s.Body)
	w.close()
}

func (w *writer) headers(h *Headers) {
	w.open()
	w.key("handler")
	w.str(h.Handler)
	if h.Request != nil {
		w.key("request")
		w.open()
		w.headerOps(h.Request)
		w.close()
	}
	if h.Response != nil {
		w.key("response")
		w.open()
		w.headerOps(&h.Response.HeaderOps)
		if h.Response.Deferred {
			w.key("deferred")
			w.bool(true)
		}
		w.close()
	}
	w.close()
}

// headerOps writes the members of HeaderOps into an open object.
func (w *writer) headerOps(o *HeaderOps) {
	if len(o.Add) > 0 {
		w.key("add")
		w.strListMap(o.Add)
	}
	if len(o.Set) > 0 {
		w.key("set")
		w.strListMap(o.Set)
	}
	w.optStrs("delete", o.Delete)
}

func (w *writer) rewrite(r *Rewrite) {
	w.open()
	w.key("handler")
	w.str(r.Handler)
	w.optStr("uri", r.URI)
	if len(r.PathRegexp) > 0 {
		w.key("path_regexp")
		writeList(w, r.PathRegexp, w.regexReplace)
	}
	w.close()
}

func (w *writer) regexReplace(p *RegexReplace) {
	w.open()
	w.key("find")
	w.str(p.Find)
	w.key("replace")
	w.str(p.Replace)
	w.close()
}

func (w *writer) reverseProxy(rp *ReverseProxy) {
	w.open()
	w.key("handler")
	w.str(rp.Handler)
	w.key("upstreams")
	w.upstreams(rp.Upstreams)
	if rp.LoadBalancing != nil {
		w.key("load_balancing")
		w.loadBalancing(rp.LoadBalancing)
	}
	if rp.Headers != nil {
		w.key("headers")
		w.open()
		if rp.Headers.Request != nil {
			w.key("request")
			w.open()
			w.headerOps(rp.Headers.Request)
			w.close()
		}
		w.close()
	}
	if t := rp.Transport; t != nil {
		w.key("transport")
		w.open()
		w.key("protocol")
		w.str(t.Protocol)
		w.optStr("response_header_timeout", t.ResponseHeaderTimeout)
		w.optStrs("versions", t.Versions)
		if t.BackendTLS != nil {
			w.backendTLS(t.BackendTLS)
		}
		w.close()
	}
	w.optStr("stream_close_delay", rp.StreamCloseDelay)
	w.close()
}

func (w *writer) loadBalancing(lb *LoadBalancing) {
	w.open()
	if sp := lb.SelectionPolicy; sp != nil {
		w.key("selection_policy")
		w.open()
		w.key("policy")
		w.str(sp.Policy)
		w.optStr("key", sp.Key)
		if len(sp.Weights) > 0 {
			w.key("weights")
			writeList(w, sp.Weights, func(n *int) { w.int(*n) })
		}
		w.close()
	}
	if lb.Retries != 0 {
		w.key("retries")
		w.int(lb.Retries)
	}
	w.optStr("try_duration", lb.TryDuration)
	w.optStr("try_interval", lb.TryInterval)
	if len(lb.RetryMatch) > 0 {
		w.key("retry_match")
		w.matcherSets(lb.RetryMatch)
	}
	w.close()
}

// upstreams writes an upstream list; nil is null.
func (w *writer) upstreams(us []Upstream) {
	if us == nil {
		w.b = append(w.b, "null"...)
		return
	}
	writeList(w, us, w.upstream)
}

func (w *writer) upstream(u *Upstream) {
	w.open()
	w.key("dial")
	w.str(u.Dial)
	w.close()
}

// backendTLS writes the members of t into the open object.
func (w *writer) backendTLS(t *BackendTLS) {
	w.key("server_name")
	w.str(t.ServerName)
	w.optStrs("trusted_cas", t.TrustedCAs)
	if t.SystemCAs {
		w.key("system_cas")
		w.bool(true)
	}
	if len(t.SubjectAltNames) > 0 {
		w.key("subject_alt_names")
		writeList(w, t.SubjectAltNames, func(s *SubjectAltName) {
			w.open()
			w.optStr("hostname", s.Hostname)
			w.optStr("uri", s.URI)
			w.close()
		})
	}
	w.optStr("client_certificate", t.ClientCertificate)
	w.optStr("client_key", t.ClientKey)
}
