package caddyjson

func (w *writer) tlsApp(a *TLSApp) {
	w.open()
	if a.Certificates != nil {
		w.key("certificates")
		w.open()
		if len(a.Certificates.LoadPEM) > 0 {
			w.key("load_pem")
			writeList(w, a.Certificates.LoadPEM, w.pemCertificate)
		}
		w.optStrs("automate", a.Certificates.Automate)
		w.close()
	}
	if a.Automation != nil {
		// Small and written once per config: encoding/json writes it.
		w.key("automation")
		w.marshal(a.Automation)
	}
	w.close()
}

func (w *writer) pemCertificate(c *PEMCertificate) {
	w.open()
	w.key("certificate")
	w.str(c.Certificate)
	w.key("key")
	w.str(c.Key)
	w.optStrs("tags", c.Tags)
	w.close()
}

func (w *writer) connectionPolicy(p *TLSConnectionPolicy) {
	w.open()
	if p.Match != nil {
		w.key("match")
		w.tlsMatch(p.Match)
	}
	if cs := p.CertificateSelection; cs != nil {
		w.key("certificate_selection")
		w.open()
		w.optStrs("any_tag", cs.AnyTag)
		w.close()
	}
	if ca := p.ClientAuthentication; ca != nil {
		w.key("client_authentication")
		w.clientAuthentication(ca)
	}
	w.optStrs("cipher_suites", p.CipherSuites)
	w.optStr("protocol_min", p.ProtocolMin)
	w.close()
}

func (w *writer) clientAuthentication(ca *ClientAuthentication) {
	w.open()
	if ca.CA != nil {
		w.key("ca")
		w.open()
		w.key("provider")
		w.str(ca.CA.Provider)
		w.optStrs("trusted_ca_certs", ca.CA.TrustedCACerts)
		w.close()
	}
	w.optStr("mode", ca.Mode)
	w.close()
}

func (w *writer) tlsMatch(m *TLSMatch) {
	w.open()
	w.optStrs("sni", m.SNI)
	if m.SNIRegexp != nil {
		w.key("sni_regexp")
		w.regexp(m.SNIRegexp)
	}
	w.close()
}
