package utils

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ProbeImage runs test/probe: a TCP probe, an echoing HTTP backend and an HTTP client.
const ProbeImage = "localhost/caddy-gateway-probe:dev"

// EchoBackend is a Deployment and a Service named name, port 8080, whose pods answer
// every request with their name, the path and the request headers.
func EchoBackend(ns, name string) []client.Object {
	return backend(ns, name, corev1.Container{
		Image: ProbeImage, Args: []string{"serve", ":8080", name},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(8080)},
		}},
	}, corev1.ServicePort{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)})
}

// EchoBasicImage runs EchoBasicPackage, the Gateway API conformance suite's echo-basic backend.
const EchoBasicImage = "localhost/caddy-gateway-echo-basic:dev"

// EchoBasicPackage is the Go package of the conformance suite's echo-basic backend.
const EchoBasicPackage = "sigs.k8s.io/gateway-api-conformance-images/echo-basic"

// GRPCEchoBackend is a Deployment and a Service named name, port 8080 with appProtocol
// kubernetes.io/h2c, whose pods serve the conformance suite's gRPC echo service in
// plaintext, as the suite's grpc-infra backends do; every answer names the pod.
func GRPCEchoBackend(ns, name string) []client.Object {
	return backend(ns, name, corev1.Container{
		Image: EchoBasicImage, Env: echoBasicEnv("GRPC_ECHO_SERVER"),
		Ports: []corev1.ContainerPort{{Name: "grpc", ContainerPort: 3000}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(3000)},
		}},
	}, corev1.ServicePort{Name: "grpc", Port: 8080, TargetPort: intstr.FromInt32(3000), AppProtocol: ptr.To("kubernetes.io/h2c")})
}

// TCPEchoBackend is a Deployment and a Service named name, TCP port 8080, whose pods run
// the conformance suite's TCP echo server: each connection first receives
// TCPEchoWelcome, then "PONG" for every "PING" line and, for every "TEST" line, a JSON
// line naming the pod and its namespace.
func TCPEchoBackend(ns, name string) []client.Object {
	return backend(ns, name, corev1.Container{
		Image: EchoBasicImage, Env: echoBasicEnv("TCP_ECHO_SERVER"),
		Ports: []corev1.ContainerPort{{Name: "tcp", ContainerPort: 3000}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(3000)},
		}},
	}, corev1.ServicePort{Name: "tcp", Port: 8080, TargetPort: intstr.FromInt32(3000)})
}

// TCPEchoWelcome is the line TCPEchoBackend's server sends first on every connection.
const TCPEchoWelcome = "Gateway API Test TCP Server\n"

// UDPEchoBackend is a Deployment and a Service named name, UDP port 8080, whose pods run
// the conformance suite's UDP echo server: every datagram is answered with a JSON object
// holding the datagram ("request"), the pod and its namespace. UDP has no readiness
// probe: the pods are ready once running.
func UDPEchoBackend(ns, name string) []client.Object {
	return backend(ns, name, corev1.Container{
		Image: EchoBasicImage, Env: echoBasicEnv("UDP_ECHO_SERVER"),
		Ports: []corev1.ContainerPort{{Name: "udp", ContainerPort: 8080, Protocol: corev1.ProtocolUDP}},
	}, corev1.ServicePort{Name: "udp", Port: 8080, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolUDP})
}

// TLSEchoBackend is a Deployment and a Service named name whose pods run echo-basic's
// HTTP server: HTTPS with the certificate of the kubernetes.io/tls Secret named secret on
// Service port 443, and plain HTTP on Service port 8080. Every answer is JSON naming the
// pod and, over HTTPS, the server name the client asked for.
func TLSEchoBackend(ns, name, secret string) []client.Object {
	objs := backend(ns, name, corev1.Container{
		Image: EchoBasicImage,
		Env: append(echoBasicEnv(""),
			corev1.EnvVar{Name: "TLS_SERVER_CERT", Value: "/etc/tls/tls.crt"},
			corev1.EnvVar{Name: "TLS_SERVER_PRIVKEY", Value: "/etc/tls/tls.key"}),
		VolumeMounts: []corev1.VolumeMount{{Name: "tls", MountPath: "/etc/tls", ReadOnly: true}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8443)},
		}},
	}, corev1.ServicePort{Name: "https", Port: 443, TargetPort: intstr.FromInt32(8443)})
	pod := &objs[0].(*appsv1.Deployment).Spec.Template.Spec
	pod.Volumes = []corev1.Volume{{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}
	svc := objs[1].(*corev1.Service)
	svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(3000)})
	return objs
}

// echoBasicEnv turns on echo-basic's server mode (GRPC_ECHO_SERVER, TCP_ECHO_SERVER or
// UDP_ECHO_SERVER; "" is its HTTP server) and gives it the pod's name and namespace to
// put in its answers.
func echoBasicEnv(mode string) []corev1.EnvVar {
	fromField := func(path string) *corev1.EnvVarSource {
		return &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}
	}
	env := []corev1.EnvVar{
		{Name: "POD_NAME", ValueFrom: fromField("metadata.name")},
		{Name: "NAMESPACE", ValueFrom: fromField("metadata.namespace")},
	}
	if mode != "" {
		env = append(env, corev1.EnvVar{Name: mode, Value: "1"})
	}
	return env
}

// backend is a Deployment named name running serve in restricted pods, and a Service
// named name with port in front of them.
func backend(ns, name string, serve corev1.Container, port corev1.ServicePort) []client.Object {
	labels := map[string]string{"app": name}
	serve.Name, serve.ImagePullPolicy, serve.SecurityContext = "serve", corev1.PullIfNotPresent, restrictedContainer()
	return []client.Object{
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec: appsv1.DeploymentSpec{
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec:       corev1.PodSpec{SecurityContext: restrictedPod(), Containers: []corev1.Container{serve}},
				},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{port}},
		},
	}
}

// ProbePod runs the probe with args once in a pod no NetworkPolicy selects.
func ProbePod(ns, name string, args ...string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			RestartPolicy:   corev1.RestartPolicyNever,
			SecurityContext: restrictedPod(),
			Containers: []corev1.Container{{
				Name: "probe", Image: ProbeImage, ImagePullPolicy: corev1.PullIfNotPresent, Args: args,
				SecurityContext: restrictedContainer(),
			}},
		},
	}
}

func restrictedPod() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot: ptr.To(true), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restrictedContainer() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr.To(false), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

// RunProbePod creates pod, waits until its log contains "done" and returns the log; the
// pod is deleted afterwards.
func RunProbePod(ctx context.Context, c client.Client, cfg *rest.Config, pod *corev1.Pod, timeout time.Duration) (string, error) {
	if err := c.Create(ctx, pod); err != nil {
		return "", err
	}
	defer func() { _ = c.Delete(context.Background(), pod) }()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", err
	}
	var out string
	err = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		rc, err := cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{}).Stream(ctx)
		if err != nil {
			return false, nil // not started yet
		}
		defer func() { _ = rc.Close() }()
		b, err := io.ReadAll(rc)
		if err != nil {
			return false, nil
		}
		out = string(b)
		return strings.Contains(out, "done"), nil
	})
	if err != nil {
		return out, fmt.Errorf("probe pod %s/%s did not finish: %w (log so far: %q)", pod.Namespace, pod.Name, err, out)
	}
	return out, nil
}

// AuthBackend is a Deployment and a Service named name, port 8080, whose pods run the
// probe's HTTP authorization service (probe auth): "Authorization: Bearer good" gets
// 200 with X-User: alice, anything else 403 with the body "denied by auth".
func AuthBackend(ns, name string) []client.Object {
	return backend(ns, name, corev1.Container{
		Image: ProbeImage, Args: []string{"auth", ":8080"},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
			TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)},
		}},
	}, corev1.ServicePort{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)})
}
