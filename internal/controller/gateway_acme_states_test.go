package controller_test

import (
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/status"
)

// TestGatewayReportsRecordedCertificateStates shows a state the pods record in a storage
// Secret (as the certificate state recorder writes it) re-reconciling the Gateway, whose
// listener condition then reports it.
func TestGatewayReportsRecordedCertificateStates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, v1alpha1.CaddyProxyConfigSpec{}, withListeners(automaticListeners(true)...))
	gw := f.gateway
	const host = "www.example.com"
	f.waitGateway(t, listenerCondition("https", status.ListenerConditionAutomaticCertificates, metav1.ConditionUnknown, "Pending"))
	record := func(st acmestore.CertificateState) {
		t.Helper()
		key := acmestore.StateKey(host)
		v, err := json.Marshal(st)
		must(t, err)
		name := acmestore.SecretName(gw.Name, acmestore.Shard(key))
		update(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: name}}, func(s *corev1.Secret) {
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[acmestore.DataKey(key)] = acmestore.Record{Key: key, Modified: time.Now(), Value: v}.Encode()
		})
	}
	at := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	record(acmestore.CertificateState{Name: host, Phase: acmestore.Failing, Error: "urn:ietf:params:acme:error:rejectedIdentifier", Updated: at})
	f.waitGateway(t, listenerCondition("https", status.ListenerConditionAutomaticCertificates, metav1.ConditionFalse, "Failing"))
	record(acmestore.CertificateState{Name: host, Phase: acmestore.Valid, NotAfter: at.Add(90 * 24 * time.Hour), Updated: at.Add(time.Minute)})
	f.waitGateway(t, listenerCondition("https", status.ListenerConditionAutomaticCertificates, metav1.ConditionTrue, "Valid"))
}
