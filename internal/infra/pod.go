package infra

import (
	"maps"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/caddy-gateway/operator/internal/certs"
)

// Volume names of the Caddy pod.
const (
	volRun       = "run"
	volData      = "data"
	volConfig    = "config"
	volBootstrap = "bootstrap"
	volAdminTLS  = "admin-tls"
)

// podTemplate is the pod both workload kinds run.
func (r *renderer) podTemplate() corev1.PodTemplateSpec {
	labels := r.infraLabels()
	maps.Copy(labels, r.pod.Labels)
	maps.Copy(labels, r.ownLabels())
	annotations := r.infraAnnotations()
	maps.Copy(annotations, r.pod.Annotations)
	if len(annotations) == 0 {
		annotations = nil
	}
	grace := DefaultTerminationGracePeriodSeconds
	if r.pod.TerminationGracePeriodSeconds != nil {
		grace = *r.pod.TerminationGracePeriodSeconds
	}
	spec := corev1.PodSpec{
		ServiceAccountName:            r.names.Workload,
		AutomountServiceAccountToken:  ptr.To(false),
		TerminationGracePeriodSeconds: ptr.To(grace),
		SecurityContext:               r.podSecurityContext(),
		NodeSelector:                  r.pod.NodeSelector,
		Affinity:                      r.pod.Affinity,
		Tolerations:                   r.pod.Tolerations,
		TopologySpreadConstraints:     r.pod.TopologySpreadConstraints,
		ImagePullSecrets:              r.pod.ImagePullSecrets,
		Containers:                    []corev1.Container{r.caddyContainer(), r.adminProxyContainer()},
		Volumes:                       r.volumes(),
	}
	if r.pod.PriorityClassName != nil {
		spec.PriorityClassName = *r.pod.PriorityClassName
	}
	if r.hostNetwork() {
		spec.HostNetwork = true
		spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	}
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: annotations},
		Spec:       spec,
	}
}

func (r *renderer) hostNetwork() bool {
	return r.pod.HostNetwork != nil && *r.pod.HostNetwork
}

// podSecurityContext: non-root, seccomp RuntimeDefault and, outside the host network, the
// sysctl that lets a non-root Caddy bind ports below 1024. The kubelet refuses namespaced
// net.* sysctls for hostNetwork pods, so there listener ports below 1024 need a
// securityContext override.
func (r *renderer) podSecurityContext() *corev1.PodSecurityContext {
	if r.pod.SecurityContext != nil {
		return r.pod.SecurityContext
	}
	sc := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		RunAsUser:      ptr.To(runAsID),
		RunAsGroup:     ptr.To(runAsID),
		FSGroup:        ptr.To(runAsID),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if !r.hostNetwork() {
		sc.Sysctls = []corev1.Sysctl{{Name: "net.ipv4.ip_unprivileged_port_start", Value: "0"}}
	}
	return sc
}

func containerSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
	}
}

func (r *renderer) pullPolicy() corev1.PullPolicy {
	if c := r.wl.Caddy; c != nil && c.ImagePullPolicy != nil {
		return *c.ImagePullPolicy
	}
	return corev1.PullIfNotPresent
}

func (r *renderer) caddyContainer() corev1.Container {
	c := corev1.Container{
		Name:            CaddyContainer,
		Image:           r.in.CaddyImage,
		ImagePullPolicy: r.pullPolicy(),
		Command:         []string{"/usr/bin/caddy"},
		Args:            []string{"run", "--config", BootstrapDir + "/" + BootstrapKey},
		Env: []corev1.EnvVar{
			{Name: "XDG_DATA_HOME", Value: DataDir},
			{Name: "XDG_CONFIG_HOME", Value: ConfigDir},
		},
		Resources:       requests("50m", "64Mi"),
		SecurityContext: containerSecurityContext(),
		ReadinessProbe: &corev1.Probe{
			ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Path: ReadinessPath, Port: intstr.FromInt32(ReadinessPort)}},
			PeriodSeconds:    2,
			FailureThreshold: 2,
		},
		VolumeMounts: []corev1.VolumeMount{
			{Name: volRun, MountPath: AdminSocketDir},
			{Name: volData, MountPath: DataDir},
			{Name: volConfig, MountPath: ConfigDir},
			{Name: volBootstrap, MountPath: BootstrapDir, ReadOnly: true},
		},
	}
	if r.in.ACME {
		c.VolumeMounts = append(c.VolumeMounts, tokenMount)
	}
	for _, p := range r.ports {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: p.name(), ContainerPort: p.port, Protocol: p.protocol})
	}
	c.Ports = append(c.Ports, corev1.ContainerPort{Name: "ready", ContainerPort: ReadinessPort, Protocol: corev1.ProtocolTCP})
	if r.metrics != nil {
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: "metrics", ContainerPort: *r.metrics, Protocol: corev1.ProtocolTCP})
	}
	if r.hostNetwork() {
		for i := range c.Ports {
			c.Ports[i].HostPort = c.Ports[i].ContainerPort
		}
	}
	spec := r.wl.Caddy
	if spec == nil {
		return c
	}
	if spec.Image != nil {
		c.Image = *spec.Image
	}
	if spec.Resources != nil {
		c.Resources = *spec.Resources
		if mem, ok := spec.Resources.Limits[corev1.ResourceMemory]; ok && !slices.ContainsFunc(spec.Env, isGOMEMLIMIT) {
			// 90% of the limit leaves room for memory the Go runtime does not manage.
			c.Env = append(c.Env, corev1.EnvVar{Name: "GOMEMLIMIT", Value: strconv.FormatInt(mem.Value()/10*9, 10)})
		}
	}
	c.Env = append(c.Env, spec.Env...)
	if spec.SecurityContext != nil {
		c.SecurityContext = spec.SecurityContext
	}
	if p := spec.Probes; p != nil {
		if p.Readiness != nil {
			c.ReadinessProbe = p.Readiness
		}
		c.LivenessProbe = p.Liveness
		c.StartupProbe = p.Startup
	}
	return c
}

func isGOMEMLIMIT(e corev1.EnvVar) bool { return e.Name == "GOMEMLIMIT" }

// requests are the resources of a container whose CaddyProxyConfig sets none: requests
// without limits. A pod without requests is BestEffort: on a busy node its containers get
// the least CPU of all (config pushes and requests alike wait behind every other pod) and
// it is the first evicted. Without limits nothing is throttled or killed for a burst.
func requests(cpu, memory string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
	}}
}

func (r *renderer) adminProxyContainer() corev1.Container {
	c := corev1.Container{
		Name:            AdminProxyContainer,
		Image:           r.in.OperatorImage,
		ImagePullPolicy: r.pullPolicy(),
		Command:         []string{"/manager"},
		Args: []string{"admin-proxy",
			"--listen", ":" + strconv.Itoa(int(r.adminPort)),
			"--tls-dir", AdminTLSDir,
			"--socket", AdminSocket,
			// Only the operator's client certificate for this Gateway opens its admin API.
			"--identity", certs.OperatorIdentity(r.gw.Namespace, r.gw.Name)},
		Ports:     []corev1.ContainerPort{{Name: "admin", ContainerPort: r.adminPort, Protocol: corev1.ProtocolTCP}},
		Resources: requests("10m", "32Mi"),
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(r.adminPort)}},
			PeriodSeconds: 2,
		},
		SecurityContext: containerSecurityContext(),
		VolumeMounts: []corev1.VolumeMount{
			{Name: volRun, MountPath: AdminSocketDir},
			{Name: volAdminTLS, MountPath: AdminTLSDir, ReadOnly: true},
		},
	}
	if r.hostNetwork() {
		c.Ports[0].HostPort = r.adminPort
	}
	if a := r.wl.AdminProxy; a != nil {
		if a.Image != nil {
			c.Image = *a.Image
		}
		if a.Resources != nil {
			c.Resources = *a.Resources
		}
	}
	return c
}

func (r *renderer) volumes() []corev1.Volume {
	emptyDir := func(name string) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}
	}
	vols := []corev1.Volume{
		emptyDir(volRun),
		emptyDir(volData),
		emptyDir(volConfig),
		{Name: volBootstrap, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.names.Bootstrap}}}},
		{Name: volAdminTLS, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName:  certs.ServerSecret(r.gw.Name),
			DefaultMode: ptr.To[int32](0o440),
		}}},
	}
	if t := r.tokenVolume(); t != nil {
		vols = append(vols, *t)
	}
	return vols
}
