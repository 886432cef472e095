package gatewaysecrets

import (
	"context"
	"fmt"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// The clients are typed get/update clients on client-go's REST client, shaped as the
// generated clientset's, on a scheme of the two kinds the storage uses. The clientset's
// packages register every API group of Kubernetes (about 33 MB more in the Caddy binary)
// and its generic typed clients link client-go's fakes (about 5 MB more).

// object is a Kubernetes object.
type object interface {
	runtime.Object
	metav1.Object
}

// typedClient gets and updates the objects of one namespaced resource.
type typedClient[T object] struct {
	rest      rest.Interface
	resource  string
	namespace string
	params    runtime.ParameterCodec
	newObject func() T
}

// Get reads the object name.
func (c *typedClient[T]) Get(ctx context.Context, name string, opts metav1.GetOptions) (T, error) {
	out := c.newObject()
	err := c.rest.Get().Namespace(c.namespace).Resource(c.resource).Name(name).
		VersionedParams(&opts, c.params).Do(ctx).Into(out)
	return out, err
}

// Update writes obj, which carries the resourceVersion it was read at.
func (c *typedClient[T]) Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error) {
	out := c.newObject()
	err := c.rest.Put().Namespace(c.namespace).Resource(c.resource).Name(obj.GetName()).
		VersionedParams(&opts, c.params).Body(obj).Do(ctx).Into(out)
	return out, err
}

// typedClients are the namespaced Secret and Lease clients.
type typedClients struct {
	secrets *typedClient[*corev1.Secret]
	leases  *typedClient[*coordinationv1.Lease]
}

// newClients returns Secret and Lease clients of namespace ns.
func newClients(rc *rest.Config, ns string) (typedClients, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return typedClients{}, err
	}
	if err := coordinationv1.AddToScheme(scheme); err != nil {
		return typedClients{}, err
	}
	codecs := serializer.NewCodecFactory(scheme)
	params := runtime.NewParameterCodec(scheme)
	core, err := restClient(rc, corev1.SchemeGroupVersion, "/api", codecs)
	if err != nil {
		return typedClients{}, err
	}
	coord, err := restClient(rc, coordinationv1.SchemeGroupVersion, "/apis", codecs)
	if err != nil {
		return typedClients{}, err
	}
	return typedClients{
		secrets: &typedClient[*corev1.Secret]{core, "secrets", ns, params, func() *corev1.Secret { return &corev1.Secret{} }},
		leases:  &typedClient[*coordinationv1.Lease]{coord, "leases", ns, params, func() *coordinationv1.Lease { return &coordinationv1.Lease{} }},
	}, nil
}

// restClient returns a REST client of the group version gv.
func restClient(rc *rest.Config, gv schema.GroupVersion, apiPath string, codecs serializer.CodecFactory) (*rest.RESTClient, error) {
	c := rest.CopyConfig(rc)
	c.GroupVersion = &gv
	c.APIPath = apiPath
	c.NegotiatedSerializer = codecs.WithoutConversion()
	// Protobuf carries Secret data as bytes; JSON would carry it in base64.
	c.ContentType = runtime.ContentTypeProtobuf
	c.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	rcl, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("%s client: %w", gv, err)
	}
	return rcl, nil
}
