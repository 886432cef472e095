package infra

import (
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gwapiv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/caddy-gateway/operator/api/v1alpha1"
	"github.com/caddy-gateway/operator/internal/names"
	"github.com/caddy-gateway/operator/internal/params"
)

// Fixed facts of the Caddy pod, shared with the config emitter (the pushed config must
// keep the admin block and add the readiness server) and the admin-proxy's defaults.
const (
	// ReadinessPort and ReadinessPath are served by a server that only pushed configs
	// contain; the caddy container's readiness probe targets them.
	ReadinessPort = params.ReadinessPort
	ReadinessPath = "/ready"
	// AdminSocketDir is an emptyDir shared by the caddy and admin-proxy containers.
	AdminSocketDir = "/run/caddy"
	// AdminSocket is Caddy's only admin endpoint: admin.listen is "unix/" + AdminSocket.
	AdminSocket = AdminSocketDir + "/admin.sock"
	// AdminTLSDir is where the admin-proxy's server certificate Secret is mounted.
	AdminTLSDir = "/etc/caddy-gateway/tls"
	// BootstrapDir holds the bootstrap config (ConfigMap key BootstrapKey).
	BootstrapDir = "/etc/caddy"
	BootstrapKey = "bootstrap.json"
	// DataDir and ConfigDir are Caddy's XDG_DATA_HOME and XDG_CONFIG_HOME (emptyDirs).
	DataDir   = "/data"
	ConfigDir = "/config"

	// Container names.
	CaddyContainer      = "caddy"
	AdminProxyContainer = "admin-proxy"

	// Labels of every rendered object. The selector uses LabelName and LabelGatewayName.
	LabelName        = "app.kubernetes.io/name"
	LabelInstance    = "app.kubernetes.io/instance"
	LabelManagedBy   = "app.kubernetes.io/managed-by"
	LabelGatewayName = "gateway.networking.k8s.io/gateway-name"
	NameValue        = "caddy"
	ManagedByValue   = "caddy-gateway-operator"

	// Defaults documented on the API fields.
	DefaultReplicas                      int32 = 1
	DefaultTerminationGracePeriodSeconds int64 = 60
	// runAsID is the non-root user and group of both containers.
	runAsID int64 = 65532
)

// OperatorPods selects the operator's pods, the only default peers of the admin port.
type OperatorPods struct {
	// Namespace of the operator.
	Namespace string
	// Labels of the operator's pods.
	Labels map[string]string
}

// Input is everything the objects of one Gateway depend on.
type Input struct {
	// Gateway whose fleet is rendered; its listeners give the ports and its
	// spec.infrastructure the extra labels and annotations.
	Gateway *gwapiv1.Gateway
	// ListenerSetListeners are the listeners of the ListenerSets the Gateway allows
	// (translator.AllowedListenerSetListeners): their ports are opened beside the
	// Gateway's own.
	ListenerSetListeners []gwapiv1.Listener
	// Spec is the merged CaddyProxyConfig (see Merge); nil means all defaults.
	Spec *v1alpha1.CaddyProxyConfigSpec
	// CaddyImage is the default data-plane image (workload.caddy.image overrides it).
	CaddyImage string
	// OperatorImage is the default admin-proxy image (workload.adminProxy.image overrides it).
	OperatorImage string
	// Operator selects the operator's pods for the NetworkPolicy.
	Operator OperatorPods
	// ACME says the Gateway obtains automatic certificates (the translation's
	// ir.Gateway.ACME is set): its pods share a certificate storage in the cluster, so
	// its Secrets, Leases, Role and RoleBinding are rendered and the caddy container
	// (alone) gets a service account token to reach them.
	ACME bool
}

// Names are the names of a Gateway's rendered objects.
type Names struct {
	// Workload names the ServiceAccount, Deployment/DaemonSet, Service, NetworkPolicy,
	// HorizontalPodAutoscaler and PodDisruptionBudget.
	Workload string
	// Bootstrap names the ConfigMap of the bootstrap config.
	Bootstrap string
	// ACME names the Role and RoleBinding of the certificate storage.
	ACME string
}

// NamesFor returns the object names for a Gateway.
func NamesFor(gateway string) Names {
	return Names{
		Workload:  names.Child(gateway, "-caddy", names.MaxLabel),
		Bootstrap: names.Child(gateway, "-caddy-bootstrap", names.MaxSubdomain),
		ACME:      names.Child(gateway, "-caddy-acme", names.MaxSubdomain),
	}
}

// SelectorLabels select the Caddy pods of a Gateway.
func SelectorLabels(gateway string) map[string]string {
	return map[string]string{
		LabelName:        NameValue,
		LabelGatewayName: names.Child(gateway, "", names.MaxLabel),
	}
}

// Render returns the objects of one Gateway in a fixed order: ServiceAccount, with
// automatic certificates the storage's Secrets, Leases, Role and RoleBinding, then
// ConfigMap, Deployment or DaemonSet, Service, NetworkPolicy (unless disabled),
// HorizontalPodAutoscaler and PodDisruptionBudget (when configured). Patches are applied
// last, to their target kinds (never to the storage's); a failing patch is an error
// naming its index.
func Render(in Input) ([]client.Object, error) {
	r, err := newRenderer(in)
	if err != nil {
		return nil, err
	}
	objs := []client.Object{r.serviceAccount()}
	if r.in.ACME {
		// Before the workload: its pods find their storage and rights in place.
		objs = append(objs, r.acmeObjects()...)
	}
	objs = append(objs, r.bootstrap(), r.workload(), r.service())
	if np := r.networkPolicy(); np != nil {
		objs = append(objs, np)
	}
	if hpa := r.hpa(); hpa != nil {
		objs = append(objs, hpa)
	}
	if pdb := r.pdb(); pdb != nil {
		objs = append(objs, pdb)
	}
	allowed := credentials{serviceAccount: r.names.Workload, token: r.tokenVolume()}
	if err := applyPatches(objs, r.spec.Patches, allowed); err != nil {
		return nil, err
	}
	return objs, nil
}

// renderer carries the resolved input of one Render call.
type renderer struct {
	in        Input
	gw        *gwapiv1.Gateway
	spec      *v1alpha1.CaddyProxyConfigSpec
	wl        v1alpha1.WorkloadSpec
	pod       v1alpha1.PodSpec
	names     Names
	adminPort int32
	ports     []listenerPort
	metrics   *int32 // nil when metrics are disabled
	addresses AddressPlan
}

func newRenderer(in Input) (*renderer, error) {
	if in.Gateway == nil {
		return nil, fmt.Errorf("infra: Input.Gateway is required")
	}
	r := &renderer{in: in, gw: in.Gateway, spec: in.Spec, names: NamesFor(in.Gateway.Name)}
	if r.spec == nil {
		r.spec = &v1alpha1.CaddyProxyConfigSpec{}
	}
	if r.spec.Workload != nil {
		r.wl = *r.spec.Workload
	}
	if r.wl.Pod != nil {
		r.pod = *r.wl.Pod
	}
	r.adminPort, r.metrics = adminPort(r.spec), metricsPort(r.spec)
	r.ports = listenerPorts(slices.Concat(in.Gateway.Spec.Listeners, in.ListenerSetListeners), hasH3(r.spec))
	r.addresses = PlanAddresses(in.Gateway, r.spec)
	return r, r.checkPorts()
}

// adminPort is the admin-proxy's port spec asks for.
func adminPort(spec *v1alpha1.CaddyProxyConfigSpec) int32 {
	if cp := spec.ControlPlane; cp != nil && cp.AdminPort != nil {
		return *cp.AdminPort
	}
	return params.DefaultAdminPort
}

// metricsPort is the metrics port spec asks for; nil when metrics are disabled.
func metricsPort(spec *v1alpha1.CaddyProxyConfigSpec) *int32 {
	if c := spec.Caddy; c != nil && c.Metrics != nil {
		if c.Metrics.Enabled != nil && !*c.Metrics.Enabled {
			return nil
		}
		if c.Metrics.Port != nil {
			return ptr.To(*c.Metrics.Port)
		}
	}
	return ptr.To(params.DefaultMetricsPort)
}

// OwnPorts are the ports the Caddy pods of a Gateway whose merged CaddyProxyConfig is
// spec (nil: all defaults) use for themselves, each with what uses it: no listener may
// take one.
func OwnPorts(spec *v1alpha1.CaddyProxyConfigSpec) map[int32]string {
	if spec == nil {
		spec = &v1alpha1.CaddyProxyConfigSpec{}
	}
	own := map[int32]string{adminPort(spec): "the admin port", ReadinessPort: "the readiness port"}
	if m := metricsPort(spec); m != nil {
		own[*m] = "the metrics port"
	}
	return own
}

// checkPorts refuses listener ports that collide with the pod's own ports.
func (r *renderer) checkPorts() error {
	own := OwnPorts(r.spec)
	for _, p := range r.ports {
		if what, ok := own[p.port]; ok {
			return fmt.Errorf("listener port %d collides with %s", p.port, what)
		}
	}
	return nil
}

func (r *renderer) isDaemonSet() bool {
	return r.wl.Kind != nil && *r.wl.Kind == v1alpha1.WorkloadDaemonSet
}

// meta returns the ObjectMeta of a rendered object: the Gateway's infrastructure labels
// and annotations, extra ones, then the operator's labels (which win).
func (r *renderer) meta(name string, extraLabels, extraAnnotations map[string]string) metav1.ObjectMeta {
	labels, annotations := r.infraLabels(), r.infraAnnotations()
	maps.Copy(labels, extraLabels)
	maps.Copy(labels, r.ownLabels())
	maps.Copy(annotations, extraAnnotations)
	m := metav1.ObjectMeta{
		Name:      name,
		Namespace: r.gw.Namespace,
		Labels:    labels,
		OwnerReferences: []metav1.OwnerReference{{
			APIVersion:         gwapiv1.GroupVersion.String(),
			Kind:               "Gateway",
			Name:               r.gw.Name,
			UID:                r.gw.UID,
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}},
	}
	if len(annotations) > 0 {
		m.Annotations = annotations
	}
	return m
}

func (r *renderer) ownLabels() map[string]string {
	l := SelectorLabels(r.gw.Name)
	l[LabelInstance] = l[LabelGatewayName]
	l[LabelManagedBy] = ManagedByValue
	return l
}

func (r *renderer) infraLabels() map[string]string {
	out := map[string]string{}
	if inf := r.gw.Spec.Infrastructure; inf != nil {
		for k, v := range inf.Labels {
			out[string(k)] = string(v)
		}
	}
	return out
}

func (r *renderer) infraAnnotations() map[string]string {
	out := map[string]string{}
	if inf := r.gw.Spec.Infrastructure; inf != nil {
		for k, v := range inf.Annotations {
			out[string(k)] = string(v)
		}
	}
	return out
}

func (r *renderer) serviceAccount() client.Object {
	return &corev1.ServiceAccount{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: r.meta(r.names.Workload, nil, nil),
		// No container gets a token unless one is mounted explicitly: only the caddy
		// container, and only with automatic certificates (tokenVolume).
		AutomountServiceAccountToken: ptr.To(false),
	}
}
