package translator

import (
	"fmt"
	"slices"
	"strings"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/ir"
)

// defaultTrustedCAKey is the key of spec.acme.trustedCARef when it names none.
const defaultTrustedCAKey = "ca.crt"

// allowedChallenges says which challenges spec.acme.challenges allows (both when unset).
func (t *translation) allowedChallenges() (http01, tlsALPN01 bool) {
	if t.in.ACME == nil || len(t.in.ACME.Challenges) == 0 {
		return true, true
	}
	c := t.in.ACME.Challenges
	return slices.Contains(c, v1alpha1.ACMEChallengeHTTP01), slices.Contains(c, v1alpha1.ACMEChallengeTLSALPN01)
}

// allowedChallengesText lists the allowed challenges as the API names them.
func (t *translation) allowedChallengesText() string {
	http01, alpn := t.allowedChallenges()
	var out []string
	if http01 {
		out = append(out, string(v1alpha1.ACMEChallengeHTTP01))
	}
	if alpn {
		out = append(out, string(v1alpha1.ACMEChallengeTLSALPN01))
	}
	return strings.Join(out, ", ")
}

// resolveACME turns the merged spec.acme into the Gateway's ACME settings, without
// challenges, reading its Secret and ConfigMap references in the Gateway's namespace;
// when one does not resolve it returns nil and a problem naming the field.
func (t *translation) resolveACME() (*ir.ACME, string) {
	a := &ir.ACME{Directory: v1alpha1.DefaultACMEDirectory}
	spec := t.in.ACME
	if spec == nil {
		return a, ""
	}
	if spec.Directory != nil {
		a.Directory = *spec.Directory
	}
	if spec.Email != nil {
		a.Email = *spec.Email
	}
	if eab := spec.ExternalAccountBinding; eab != nil {
		ref := eab.MACKeySecretRef
		mac, problem := t.secretKey(ref.Name, ref.Key)
		if problem != "" {
			return nil, "CaddyProxyConfig spec.acme.externalAccountBinding.macKeySecretRef: " + problem
		}
		a.ExternalAccount = &ir.ACMEExternalAccount{KeyID: eab.KeyID, MACKey: strings.TrimSpace(mac)}
	}
	if ref := spec.TrustedCARef; ref != nil {
		pem, problem := t.trustedCA(ref)
		if problem != "" {
			return nil, "CaddyProxyConfig spec.acme.trustedCARef: " + problem
		}
		a.TrustedRootsPEM = pem
	}
	return a, ""
}

// secretKey reads key of the Secret name in the Gateway's namespace; problem says why
// it cannot.
func (t *translation) secretKey(name, key string) (string, string) {
	full := t.gw.Namespace + "/" + name
	s, ok := t.secrets[nsName{t.gw.Namespace, name}]
	if !ok {
		return "", fmt.Sprintf("Secret %s does not exist", full)
	}
	v := secretValue(s, key)
	if v == "" {
		return "", fmt.Sprintf("Secret %s has no key %q", full, key)
	}
	return v, ""
}

// trustedCA reads and checks the PEM CA certificates ref names in the Gateway's
// namespace; problem says why it cannot.
func (t *translation) trustedCA(ref *v1alpha1.ACMETrustedCARef) (string, string) {
	key := defaultTrustedCAKey
	if ref.Key != nil {
		key = *ref.Key
	}
	var data string
	if ref.Kind == "Secret" {
		v, problem := t.secretKey(ref.Name, key)
		if problem != "" {
			return "", problem
		}
		data = v
	} else {
		v, found, ok := t.configMapValue(t.gw.Namespace, ref.Name, key)
		full := t.gw.Namespace + "/" + ref.Name
		if !found {
			return "", fmt.Sprintf("ConfigMap %s does not exist", full)
		}
		if !ok {
			return "", fmt.Sprintf("ConfigMap %s has no key %q", full, key)
		}
		data = string(v)
	}
	if _, err := parseCertificates([]byte(data)); err != nil {
		return "", fmt.Sprintf("%s %s/%s key %q: %v", ref.Kind, t.gw.Namespace, ref.Name, key, err)
	}
	return data, ""
}
