package utils

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TLSEchoBackend is a Deployment and a Service named name whose pods run the conformance
// suite's echo-basic: HTTPS with the certificate of the kubernetes.io/tls Secret named
// secret on Service port 443, and plain HTTP on Service port 8080. Every answer is JSON
// naming the pod and, over HTTPS, the server name the client asked for.
func TLSEchoBackend(ns, name, secret string) []client.Object {
	objs := backend(ns, name, corev1.Container{
		Image: EchoBasicImage,
		Env: []corev1.EnvVar{
			{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "TLS_SERVER_CERT", Value: "/etc/tls/tls.crt"},
			{Name: "TLS_SERVER_PRIVKEY", Value: "/etc/tls/tls.key"},
		},
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
