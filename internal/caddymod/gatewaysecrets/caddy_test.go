package gatewaysecrets

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	_ "github.com/caddyserver/caddy/v2/modules/standard"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/caddy-gateway/operator/internal/acmestore"
	_ "github.com/caddy-gateway/operator/internal/caddymod/certstates"
)

// TestCaddyKeepsCertificatesInSecrets runs Caddy with this storage as its top-level
// storage and the recorder of certificate states subscribed, automating a certificate
// from Caddy's internal CA: the certificate and its Valid state land in the Gateway's
// Secrets, where acmestore.States (what the operator reads) finds the state.
func TestCaddyKeepsCertificatesInSecrets(t *testing.T) {
	cfg := fixture(t)
	inClusterConfig = func() (*rest.Config, error) { return rest.CopyConfig(env.Config), nil }
	t.Cleanup(func() { inClusterConfig = rest.InClusterConfig })
	config := fmt.Sprintf(`{
		"admin": {"disabled": true},
		"storage": %s,
		"apps": {
			"pki": {"certificate_authorities": {"local": {"install_trust": false}}},
			"events": {"subscriptions": [{
				"events": ["cert_obtaining", "cert_obtained", "cert_failed", "cert_ocsp_revoked"],
				"handlers": [{"handler": %q}]
			}]},
			"tls": {
				"disable_ocsp_stapling": true,
				"certificates": {"automate": ["a.example.com"]},
				"automation": {"policies": [{"subjects": ["a.example.com"], "issuers": [{"module": "internal"}]}]}
			}
		}
	}`, storageJSON(t, cfg), acmestore.RecorderModule)
	if err := caddy.Load([]byte(config), true); err != nil {
		t.Fatalf("loading the config: %v", err)
	}
	t.Cleanup(func() { _ = caddy.Stop() })

	var st acmestore.CertificateState
	for deadline := time.Now().Add(45 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var shards []map[string][]byte
		for _, name := range cfg.Secrets {
			sec, err := admin.CoreV1().Secrets(cfg.Namespace).Get(context.Background(), name, metav1.GetOptions{})
			must(t, err)
			shards = append(shards, sec.Data)
		}
		if st = acmestore.States(shards...)["a.example.com"]; st.Phase == acmestore.Valid {
			break
		}
	}
	if st.Phase != acmestore.Valid || time.Until(st.NotAfter) <= 0 {
		t.Fatalf("the recorded state of a.example.com is %+v, want Valid with a future expiry", st)
	}
	s := replica(t, cfg, "reader/1", nil)
	keys, err := s.List(context.Background(), "certificates", true)
	must(t, err)
	found := false
	for _, k := range keys {
		found = found || k == "certificates/local/a.example.com/a.example.com.crt"
	}
	if !found {
		t.Errorf("the certificate is not in the Secrets; stored keys: %v", keys)
	}
}

// storageJSON is the top-level storage of a Caddy config, as emit writes it.
func storageJSON(t testing.TB, cfg acmestore.StorageConfig) []byte {
	b, err := json.Marshal(struct {
		Module string `json:"module"`
		acmestore.StorageConfig
	}{acmestore.StorageModule, cfg})
	must(t, err)
	return b
}
