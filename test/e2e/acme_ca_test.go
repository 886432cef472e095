//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/e2e-framework/pkg/envconf"

	"github.com/caddy-gateway/operator/internal/certs"
	"github.com/caddy-gateway/operator/test/utils"
)

// The in-cluster ACME CA: our Caddy image running the pki app and the acme_server
// handler behind a Service on port 443. Its root and intermediate are made by the test,
// so the test knows the root to trust.
const (
	acmeCAName = "acme-ca"
	// acmeCAPort is the HTTPS port of the CA's pod; the Service offers it on 443.
	acmeCAPort = 8443
	// acmeCARootMap is the ConfigMap holding the CA's root under acmeCARootKey, which
	// ACME clients trust.
	acmeCARootMap = "acme-ca-root"
	acmeCARootKey = "ca.crt"
	// acmeCALifetime is the lifetime of the certificates the CA issues: short, as a private
	// CA's are, yet far from certmagic's renewal (the last third) while a test runs.
	acmeCALifetime = time.Hour
	acmeCADir      = "/etc/acme-ca"
	acmeCAConfig   = "/etc/caddy"
	acmeCAData     = "/data"
)

// acmeCA is the key material of the in-cluster ACME CA of namespace ns.
type acmeCA struct {
	ns                 string
	root, intermediate *certs.KeyPair
	// server is the CA's own HTTPS certificate for its Service's DNS names, signed by
	// the intermediate.
	server *certs.KeyPair
}

// newACMECA makes a root, an intermediate under it, and the CA's server certificate.
func newACMECA(t *testing.T, ns string) *acmeCA {
	t.Helper()
	now := time.Now()
	root, err := newCAKeyPair("e2e ACME root", now, 365*24*time.Hour, nil)
	if err != nil {
		t.Fatal(err)
	}
	inter, err := newCAKeyPair("e2e ACME intermediate", now, 30*24*time.Hour, root)
	if err != nil {
		t.Fatal(err)
	}
	ca := &acmeCA{ns: ns, root: root, intermediate: inter}
	if ca.server, err = inter.IssueServer(ca.host(), certs.IssueOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	return ca
}

// newCAKeyPair is a CA certificate named cn, self-signed when parent is nil. Unlike
// certs.NewCA, a root may sign one level of intermediates.
func newCAKeyPair(cn string, now time.Time, d time.Duration, parent *certs.KeyPair) (*certs.KeyPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial.Add(serial, big.NewInt(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(d),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	parentCert, signer := tmpl, key
	if parent != nil {
		tmpl.MaxPathLenZero = true
		parentCert, signer = parent.Cert, parent.Key
	} else {
		tmpl.MaxPathLen = 1
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return certs.ParseKeyPair(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
}

// host is the CA Service's cluster DNS name.
func (ca *acmeCA) host() string {
	return acmeCAName + "." + ca.ns + ".svc.cluster.local"
}

// directory is the URL of the CA's ACME directory (provisioner "local" of acme_server).
func (ca *acmeCA) directory() string {
	return "https://" + ca.host() + "/acme/local/directory"
}

// roots is a pool of the CA's root.
func (ca *acmeCA) roots() *x509.CertPool {
	return pool(ca.root)
}

// config is the CA's Caddy configuration: the pki app with the test's root and
// intermediate, and an HTTPS server on acmeCAPort presenting the server certificate
// and serving acme_server, with an access log. The CA validates http-01 at <name>:80
// and tls-alpn-01 at <name>:443, resolving names through the pod's resolv.conf (the
// cluster DNS). A validation that cannot connect leaves the challenge pending with the
// error, and is not retried unless the client asks again.
func (ca *acmeCA) config() ([]byte, error) {
	file := func(name string) string { return acmeCADir + "/" + name }
	return json.Marshal(map[string]any{
		"admin": map[string]any{"disabled": true, "config": map[string]any{"persist": false}},
		"apps": map[string]any{
			"pki": map[string]any{"certificate_authorities": map[string]any{"local": map[string]any{
				"name": "e2e ACME CA", "install_trust": false,
				"root":         map[string]any{"certificate": file("root.crt"), "private_key": file("root.key")},
				"intermediate": map[string]any{"certificate": file("intermediate.crt"), "private_key": file("intermediate.key")},
			}}},
			"tls": map[string]any{"certificates": map[string]any{"load_files": []any{
				map[string]any{"certificate": file("tls.crt"), "key": file("tls.key")},
			}}},
			"http": map[string]any{"servers": map[string]any{"acme": map[string]any{
				"listen":                  []string{fmt.Sprintf(":%d", acmeCAPort)},
				"automatic_https":         map[string]any{"disable": true},
				"tls_connection_policies": []any{map[string]any{}},
				"logs":                    map[string]any{},
				"routes": []any{map[string]any{"handle": []any{map[string]any{
					"handler": "acme_server", "lifetime": acmeCALifetime.String(),
				}}}},
			}}},
		},
	})
}

// objects are the CA's Secret, configuration, root ConfigMap, Deployment and Service,
// running image (our Caddy image).
func (ca *acmeCA) objects(t *testing.T, image string) []client.Object {
	t.Helper()
	cfgJSON, err := ca.config()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": acmeCAName}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ca.ns, Name: acmeCAName},
		Data: map[string][]byte{
			"root.crt": ca.root.CertPEM, "root.key": ca.root.KeyPEM,
			"intermediate.crt": ca.intermediate.CertPEM, "intermediate.key": ca.intermediate.KeyPEM,
			"tls.crt": append(append([]byte{}, ca.server.CertPEM...), ca.intermediate.CertPEM...), "tls.key": ca.server.KeyPEM,
		},
	}
	config := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ca.ns, Name: acmeCAName},
		Data:       map[string]string{"config.json": string(cfgJSON)},
	}
	rootMap := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ca.ns, Name: acmeCARootMap},
		Data:       map[string]string{acmeCARootKey: string(ca.root.CertPEM)},
	}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: ca.ns, Name: acmeCAName},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name: "caddy", Image: image, ImagePullPolicy: corev1.PullIfNotPresent,
						Args: []string{"run", "--config", acmeCAConfig + "/config.json"},
						Env: []corev1.EnvVar{
							{Name: "XDG_DATA_HOME", Value: acmeCAData}, {Name: "XDG_CONFIG_HOME", Value: acmeCAData + "/config"},
						},
						Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: acmeCAPort}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
							TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(acmeCAPort)},
						}, PeriodSeconds: 1},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						VolumeMounts: []corev1.VolumeMount{
							{Name: "ca", MountPath: acmeCADir, ReadOnly: true},
							{Name: "config", MountPath: acmeCAConfig, ReadOnly: true},
							{Name: "data", MountPath: acmeCAData},
						},
					}},
					Volumes: []corev1.Volume{
						{Name: "ca", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: acmeCAName}}},
						{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
							LocalObjectReference: corev1.LocalObjectReference{Name: acmeCAName}}}},
						{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					},
				},
			},
		},
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ca.ns, Name: acmeCAName},
		Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{
			{Name: "https", Port: 443, TargetPort: intstr.FromInt32(acmeCAPort)},
		}},
	}
	return []client.Object{secret, config, rootMap, dep, svc}
}

// deploy creates the CA (deleted when t ends) and waits until a pod of the namespace,
// trusting only the CA's root, reads its ACME directory by the Service's DNS name.
func (ca *acmeCA) deploy(ctx context.Context, t *testing.T, cfg *envconf.Config) {
	t.Helper()
	c := cfg.Client().Resources().GetControllerRuntimeClient()
	createAll(ctx, t, c, ca.objects(t, envOr("CADDY_IMG", "localhost/caddy-gateway-caddy:dev"))...)
	if err := utils.WaitDeploymentAvailable(ctx, c, ca.ns, acmeCAName, pollTimeout); err != nil {
		t.Fatalf("the ACME CA: %v", err)
	}
	probe := utils.ProbePod(ca.ns, envconf.RandomName("acme-ca-probe", 20), "get", ca.directory(), ca.host())
	// Go's TLS client reads its roots from SSL_CERT_FILE: the probe trusts the CA's root only.
	p := &probe.Spec.Containers[0]
	p.Env = append(p.Env, corev1.EnvVar{Name: "SSL_CERT_FILE", Value: acmeCADir + "/" + acmeCARootKey})
	p.VolumeMounts = append(p.VolumeMounts, corev1.VolumeMount{Name: "root", MountPath: acmeCADir, ReadOnly: true})
	probe.Spec.Volumes = append(probe.Spec.Volumes, corev1.Volume{Name: "root", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: acmeCARootMap}}}})
	out, err := utils.RunProbePod(ctx, c, cfg.Client().RESTConfig(), probe, 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "200 OK") || !strings.Contains(out, `"newOrder"`) {
		t.Fatalf("GET %s from a pod: want 200 with the ACME directory, got:\n%s", ca.directory(), out)
	}
	t.Logf("the ACME CA answers at %s from a pod", ca.directory())
}
