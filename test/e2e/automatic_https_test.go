//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/acmestore"
	"github.com/caddy-gateway/operator/internal/infra"
	"github.com/caddy-gateway/operator/test/utils"
)

const (
	// autoGateway's HTTPS listener obtains its certificate from the in-cluster ACME CA;
	// unreachableGateway's directory does not resolve.
	autoGateway        = "auto-https"
	unreachableGateway = "auto-https-down"
	// optAutomatic is the listener TLS option that asks for automatic certificates.
	optAutomatic = "caddygateway.io/automatic-certificates"
	// condAutomatic is the listener condition stating the automatic certificates.
	condAutomatic = "caddygateway.io/AutomaticCertificates"
	// midOrderPoll is how often the test looks for an order under way.
	midOrderPoll = 100 * time.Millisecond
	// certificateTimeout bounds the wait for the first certificate. An order whose
	// challenge the CA could not reach (the Service had no ready endpoint yet) stays
	// pending at this CA until the client gives up polling (5 minutes), and certmagic
	// orders again a minute later.
	certificateTimeout = 8 * time.Minute
)

// TestAutomaticHTTPS runs an ACME CA in the cluster (our Caddy image's acme_server) and
// a Gateway of two replicas whose HTTPS listener, on the Gateway Service's own cluster
// DNS name, asks for an automatic certificate from it. The replica holding the order's
// lock is deleted while the order is under way; the certificate still arrives, every
// replica presents the same one (chaining to the CA's root), HTTPS requests through the
// Service are answered and the listener says Valid. Scaling to three replicas orders
// nothing new: the new pod presents the same certificate and the storage Secrets do not
// change. A second Gateway whose ACME directory is unreachable says Failing with the
// error on its listener, and the first keeps serving.
func TestAutomaticHTTPS(t *testing.T) {
	cfg := testenv.EnvConf()
	ctx := context.Background()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	ns := cfg.Namespace()
	class := envconf.RandomName("e2e-auto", 16)

	ca := newACMECA(t, ns)
	ca.deploy(ctx, t, cfg)

	host := serviceHost(ns, autoGateway)
	createAll(ctx, t, c, append(utils.EchoBackend(ns, "auto-echo"),
		onePodParams(ns, "auto-class"), gatewayClass(class, ns, "auto-class"))...)
	start := time.Now()
	createAll(ctx, t, c, acmeParams(ns, autoGateway, ca.directory(), 2), automaticGateway(ns, autoGateway, class, host),
		httpRoute(ns, "auto", ns, autoGateway, "https", []string{host}, toBackends(backendRef("", "auto-echo", 1))))

	deleted := deleteOrderingPod(ctx, t, cfg, ns, autoGateway, host)
	valid := automaticValid(ctx, t, cfg, ns, autoGateway, "https")
	if !strings.Contains(valid.Message, host) {
		t.Errorf("%s message %q does not name %s", condAutomatic, valid.Message, host)
	}
	t.Logf("certificate Valid %v after the Gateway was created (the ordering pod %s deleted mid-order): %s",
		time.Since(start).Round(time.Millisecond), deleted, valid.Message)
	allReady(ctx, t, c, ns, autoGateway, 2)

	serial := sameCertificateEverywhere(ctx, t, c, ca, ns, autoGateway, host, 2)
	stored := storedCertificates(ctx, t, c, ns, autoGateway, host)
	if len(stored) != 1 || stored[0].SerialNumber.Cmp(serial) != 0 {
		t.Fatalf("the storage holds %d certificates for %s (%s), want exactly the served one %x", len(stored), host, serials(stored), serial)
	}
	addr := joinPort(serviceIP(ctx, t, c, ns, autoGateway), httpsPort)
	r := expectVia(ctx, t, tlsClient(ca.roots(), host), "https", addr, host, "/auto", http.StatusOK, "backend=auto-echo path=/auto")
	if leaf, err := x509.ParseCertificate(r.leaf); err != nil || leaf.SerialNumber.Cmp(serial) != 0 {
		t.Fatalf("HTTPS through the Service presented another certificate than the pods (%v)", err)
	}

	// Scaling out loads the stored certificate: no order, no write to the storage.
	before := storageData(ctx, t, c, ns, autoGateway)
	ordersBefore := ordersLogged(ctx, t, cfg, ns, autoGateway, host)
	scaled := time.Now()
	scaleParams(ctx, t, c, ns, autoGateway, 3)
	allReady(ctx, t, c, ns, autoGateway, 3)
	if got := sameCertificateEverywhere(ctx, t, c, ca, ns, autoGateway, host, 3); got.Cmp(serial) != 0 {
		t.Fatalf("after scaling to 3 the pods present serial %x, want %x", got, serial)
	}
	if changed := changedData(before, storageData(ctx, t, c, ns, autoGateway)); len(changed) > 0 {
		t.Fatalf("scaling to 3 replicas changed the storage Secrets: %s", strings.Join(changed, "; "))
	}
	t.Logf("the third pod presents the stored certificate %v after the scale", time.Since(scaled).Round(time.Millisecond))
	for pod, n := range ordersLogged(ctx, t, cfg, ns, autoGateway, host) {
		if n != ordersBefore[pod] {
			t.Errorf("pod %s logged %d orders for %s after the scale, %d before", pod, n, host, ordersBefore[pod])
		}
	}

	// An unreachable directory fails on its own listener only.
	downHost := serviceHost(ns, unreachableGateway)
	missing := "acme-missing." + ns + ".svc.cluster.local"
	createAll(ctx, t, c, acmeParams(ns, unreachableGateway, "https://"+missing+"/acme/local/directory", 1),
		automaticGateway(ns, unreachableGateway, class, downHost))
	failing := listenerCondition(ctx, t, c, ns, unreachableGateway, "https", condAutomatic, metav1.ConditionFalse, "Failing")
	if !strings.Contains(failing.Message, missing) {
		t.Errorf("%s of %s: message %q does not carry the error naming %s", condAutomatic, unreachableGateway, failing.Message, missing)
	}
	t.Logf("unreachable directory: %s=False Failing: %s", condAutomatic, failing.Message)
	listenerCondition(ctx, t, c, ns, autoGateway, "https", condAutomatic, metav1.ConditionTrue, "Valid")
	expectVia(ctx, t, tlsClient(ca.roots(), host), "https", addr, host, "/still", http.StatusOK, "backend=auto-echo path=/still")
	if got := sameCertificateEverywhere(ctx, t, c, ca, ns, autoGateway, host, 3); got.Cmp(serial) != 0 {
		t.Fatalf("with the failing Gateway beside it the pods present serial %x, want %x", got, serial)
	}
}

// automaticValid waits, at most certificateTimeout, until the listener's
// AutomaticCertificates condition is True/Valid, and returns it; on failure it logs
// the ends of the Caddy pods' logs.
func automaticValid(ctx context.Context, t *testing.T, cfg *envconf.Config, ns, gateway, listener string) metav1.Condition {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	var got *metav1.Condition
	err := wait.PollUntilContextTimeout(ctx, time.Second, certificateTimeout, true, func(ctx context.Context) (bool, error) {
		var gw gwapiv1.Gateway
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: gateway}, &gw); err != nil {
			return false, nil
		}
		for _, l := range gw.Status.Listeners {
			if string(l.Name) == listener {
				got = meta.FindStatusCondition(l.Conditions, condAutomatic)
			}
		}
		return got != nil && got.Status == metav1.ConditionTrue && got.Reason == "Valid", nil
	})
	if err != nil {
		cs, _ := kubernetes.NewForConfig(cfg.Client().RESTConfig())
		logTails(t, cs, ns, c, gateway)
		t.Fatalf("listener %s of %s: %s not True/Valid within %v: %+v", listener, gateway, condAutomatic, certificateTimeout, got)
	}
	return *got
}

// serviceHost is the cluster DNS name of the Service of Gateway ns/gateway, through
// which the CA reaches the Gateway's pods.
func serviceHost(ns, gateway string) string {
	return infra.NamesFor(gateway).Workload + "." + ns + ".svc.cluster.local"
}

// acmeParams is a Gateway-level CaddyProxyConfig named name: replicas Caddy pods behind
// a ClusterIP Service, ordering from the ACME directory and trusting the root in
// acmeCARootMap.
func acmeParams(ns, name, directory string, replicas int32) *v1alpha1.CaddyProxyConfig {
	p := onePodParams(ns, name)
	p.Spec.Workload.Replicas = ptr.To(replicas)
	p.Spec.ACME = &v1alpha1.ACMESpec{
		Directory: ptr.To(directory), Email: ptr.To("e2e@" + ns + ".example.com"),
		TrustedCARef: &v1alpha1.ACMETrustedCARef{Kind: "ConfigMap", Name: acmeCARootMap, Key: ptr.To(acmeCARootKey)},
	}
	return p
}

// scaleParams sets the replicas of CaddyProxyConfig ns/name, leaving the rest as it is.
func scaleParams(ctx context.Context, t *testing.T, c client.Client, ns, name string, n int32) {
	t.Helper()
	p := &v1alpha1.CaddyProxyConfig{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	patch := fmt.Appendf(nil, `{"spec":{"workload":{"replicas":%d}}}`, n)
	if err := c.Patch(ctx, p, client.RawPatch(types.MergePatchType, patch)); err != nil {
		t.Fatal(err)
	}
}

// automaticGateway has an HTTP listener on port 80 and an HTTPS listener on 443 for
// host, with no certificateRefs and automatic certificates asked for; its
// infrastructure parameters are the CaddyProxyConfig of its own name.
func automaticGateway(ns, name, class, host string) *gwapiv1.Gateway {
	gw := httpGateway(ns, name, class)
	gw.Spec.Infrastructure = &gwapiv1.GatewayInfrastructure{ParametersRef: &gwapiv1.LocalParametersReference{
		Group: gwapiv1.Group(v1alpha1.GroupVersion.Group), Kind: v1alpha1.KindCaddyProxyConfig, Name: name,
	}}
	gw.Spec.Listeners = append(gw.Spec.Listeners, gwapiv1.Listener{
		Name: "https", Protocol: gwapiv1.HTTPSProtocolType, Port: httpsPort, Hostname: ptr.To(gwapiv1.Hostname(host)),
		TLS: &gwapiv1.ListenerTLSConfig{
			Mode:    ptr.To(gwapiv1.TLSModeTerminate),
			Options: map[gwapiv1.AnnotationKey]gwapiv1.AnnotationValue{optAutomatic: "true"},
		},
	})
	return gw
}

// deleteOrderingPod waits until a Caddy pod of the Gateway has logged that it holds
// the lock of the order for host and the certificate is not stored yet, deletes that
// pod at once (no grace period) and returns its name.
func deleteOrderingPod(ctx context.Context, t *testing.T, cfg *envconf.Config, ns, gateway, host string) string {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	var victim corev1.Pod
	var last error
	err = wait.PollUntilContextTimeout(ctx, midOrderPoll, pollTimeout, true, func(ctx context.Context) (bool, error) {
		pods, err := fleetPods(ctx, c, ns, gateway)
		if err != nil {
			last = err
			return false, nil
		}
		last = fmt.Errorf("no pod of %d has acquired the lock of the order for %s", len(pods), host)
		for _, p := range pods {
			log, err := caddyLog(ctx, cs, p)
			if err != nil {
				last = fmt.Errorf("%w; pod %s: %w", last, p.Name, err)
				continue
			}
			if lockAcquired(log, host) {
				victim = p
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		logTails(t, cs, ns, c, gateway)
		t.Fatalf("waiting for an order under way: %v (last: %v)", err, last)
	}
	if err := c.Delete(ctx, &victim, client.GracePeriodSeconds(0)); err != nil {
		t.Fatalf("deleting the ordering pod %s: %v", victim.Name, err)
	}
	if stored := storedCertificates(ctx, t, c, ns, gateway, host); len(stored) > 0 {
		t.Fatalf("the certificate for %s was already stored when pod %s was deleted: the deletion was not mid-order", host, victim.Name)
	}
	log, _ := caddyLog(ctx, cs, victim)
	if obtained(log, host) {
		t.Fatalf("pod %s had already obtained the certificate for %s when it was deleted", victim.Name, host)
	}
	t.Logf("pod %s deleted while it held the order's lock for %s", victim.Name, host)
	return victim.Name
}

// logTails logs the end of the caddy container's log of every pod of the Gateway.
func logTails(t *testing.T, cs kubernetes.Interface, ns string, c client.Client, gateway string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pods, err := fleetPods(ctx, c, ns, gateway)
	if err != nil {
		t.Logf("listing the pods of %s: %v", gateway, err)
		return
	}
	for _, p := range pods {
		log, err := caddyLog(ctx, cs, p)
		if err != nil {
			t.Logf("log of %s: %v", p.Name, err)
			continue
		}
		lines := strings.Split(strings.TrimSpace(log), "\n")
		t.Logf("last lines of the caddy log of %s:\n%s", p.Name, strings.Join(lines[max(0, len(lines)-15):], "\n"))
	}
}

// caddyLog is the log of the caddy container of pod p.
func caddyLog(ctx context.Context, cs kubernetes.Interface, p corev1.Pod) (string, error) {
	rc, err := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: infra.CaddyContainer}).Stream(ctx)
	if err != nil {
		return "", err
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// logLines are the lines of log holding every one of words.
func logLines(log string, words ...string) int {
	n := 0
	for line := range strings.SplitSeq(log, "\n") {
		if !slices.ContainsFunc(words, func(w string) bool { return !strings.Contains(line, w) }) {
			n++
		}
	}
	return n
}

// lockAcquired reports whether certmagic logged that it holds the lock to obtain host.
func lockAcquired(log, host string) bool {
	return logLines(log, `"lock acquired"`, `"`+host+`"`) > 0
}

// obtained reports whether certmagic logged that it obtained the certificate for host.
func obtained(log, host string) bool {
	return logLines(log, `"certificate obtained successfully"`, `"`+host+`"`) > 0
}

// ordersLogged counts, by pod, the orders for host the running Caddy pods of the
// Gateway logged starting.
func ordersLogged(ctx context.Context, t *testing.T, cfg *envconf.Config, ns, gateway, host string) map[string]int {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	pods, err := fleetPods(ctx, c, ns, gateway)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range pods {
		if !p.DeletionTimestamp.IsZero() {
			continue
		}
		log, err := caddyLog(ctx, cs, p)
		if err != nil {
			t.Fatal(err)
		}
		out[p.Name] = logLines(log, `"obtaining certificate"`, `"`+host+`"`)
	}
	return out
}

// sameCertificateEverywhere waits until n Ready pods of the Gateway each present, for
// the server name host on their port 443, a certificate for host that chains to the
// CA's root, all the same one, and returns its serial number.
func sameCertificateEverywhere(ctx context.Context, t *testing.T, c client.Client, ca *acmeCA, ns, gateway, host string, n int) *big.Int {
	t.Helper()
	var serial *big.Int
	poll(ctx, t, fmt.Sprintf("%d pods of %s presenting one certificate for %s", n, gateway, host), func(ctx context.Context) error {
		pods, err := fleetPods(ctx, c, ns, gateway)
		if err != nil {
			return err
		}
		var got []string
		serial = nil
		for _, p := range pods {
			if !podReady(&p) || !p.DeletionTimestamp.IsZero() {
				continue
			}
			leaf, err := presented(ctx, ca, joinPort(p.Status.PodIP, httpsPort), host)
			if err != nil {
				return fmt.Errorf("pod %s: %w", p.Name, err)
			}
			if serial != nil && leaf.SerialNumber.Cmp(serial) != 0 {
				return fmt.Errorf("pod %s presents serial %x, another pod %x", p.Name, leaf.SerialNumber, serial)
			}
			serial = leaf.SerialNumber
			got = append(got, p.Name)
		}
		if len(got) != n {
			return fmt.Errorf("%d Ready pods answered (%v), want %d", len(got), got, n)
		}
		return nil
	})
	t.Logf("%d pods of %s present serial %x for %s", n, gateway, serial, host)
	return serial
}

// presented dials addr with the server name host and returns the leaf the server
// presented, once it verified as a certificate for host chaining to the CA's root
// through the CA's intermediate, with the CA's lifetime.
func presented(ctx context.Context, ca *acmeCA, addr, host string) (*x509.Certificate, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{
		RootCAs: ca.roots(), ServerName: host, MinVersion: tls.VersionTLS12,
	}}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close() }()
	st := conn.(*tls.Conn).ConnectionState()
	leaf := st.PeerCertificates[0]
	chain := st.VerifiedChains[0]
	if len(chain) != 3 || !chain[1].Equal(ca.intermediate.Cert) || !chain[2].Equal(ca.root.Cert) {
		return nil, fmt.Errorf("the chain of %x is not leaf → the CA's intermediate → its root (%d certificates)", leaf.SerialNumber, len(chain))
	}
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > acmeCALifetime+2*time.Minute || life < acmeCALifetime-2*time.Minute {
		return nil, fmt.Errorf("certificate %x lives %v, the CA issues for %v", leaf.SerialNumber, life, acmeCALifetime)
	}
	return leaf, nil
}

// storageData is the data of the Gateway's storage Secrets, by Secret name.
func storageData(ctx context.Context, t *testing.T, c client.Client, ns, gateway string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for i := range acmestore.Shards {
		var s corev1.Secret
		name := acmestore.SecretName(gateway, i)
		if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
			t.Fatalf("storage Secret %s: %v", name, err)
		}
		out[name] = s.Data
	}
	return out
}

// storedCertificates are the certificates for host found anywhere in the values of the
// Gateway's storage Secrets.
func storedCertificates(ctx context.Context, t *testing.T, c client.Client, ns, gateway, host string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, data := range storageData(ctx, t, c, ns, gateway) {
		for _, v := range data {
			i := bytes.Index(v, []byte("-----BEGIN CERTIFICATE-----"))
			if i < 0 {
				continue
			}
			block, _ := pem.Decode(v[i:])
			if block == nil {
				continue
			}
			if cert, err := x509.ParseCertificate(block.Bytes); err == nil && slices.Contains(cert.DNSNames, host) {
				out = append(out, cert)
			}
		}
	}
	return out
}

// serials lists the serial numbers of certs.
func serials(certs []*x509.Certificate) string {
	var s []string
	for _, c := range certs {
		s = append(s, fmt.Sprintf("%x", c.SerialNumber))
	}
	return strings.Join(s, ", ")
}

// changedData describes each data entry of the storage Secrets added, removed or
// changed from before to after, with the start of its value (the record's header and
// storage key).
func changedData(before, after map[string]map[string][]byte) []string {
	var out []string
	for _, secret := range slices.Sorted(maps.Keys(after)) {
		b, a := before[secret], after[secret]
		keys := slices.Sorted(maps.Keys(a))
		for k := range b {
			if _, ok := a[k]; !ok {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			old, had := b[k]
			cur, has := a[k]
			switch {
			case !had:
				out = append(out, fmt.Sprintf("%s: added %q", secret, head(cur)))
			case !has:
				out = append(out, fmt.Sprintf("%s: removed %q", secret, head(old)))
			case !bytes.Equal(old, cur):
				out = append(out, fmt.Sprintf("%s: changed %q", secret, head(cur)))
			}
		}
	}
	return out
}

// head is the first 120 bytes of a stored value.
func head(v []byte) string {
	return string(v[:min(len(v), 120)])
}
