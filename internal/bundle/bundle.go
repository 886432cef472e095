// Package bundle builds the operator's OLM registry+v1 bundle (manifests/, metadata/,
// tests/scorecard/) from the objects `kustomize build config/manifests` renders: the
// ClusterServiceVersion base, the operator as config/default installs it, the samples and
// the scorecard configuration. Generate is pure; Write puts its files on disk.
package bundle

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/blang/semver/v4"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Options are the values a bundle is generated for.
type Options struct {
	// Package is the OLM package name, e.g. caddy-gateway-operator.
	Package string
	// Version is the bundle's semantic version, without a leading "v".
	Version string
	// Replaces is the version this bundle upgrades from (spec.replaces), empty for none.
	Replaces string
	// SkipRange is the olm.skipRange annotation (versions this bundle replaces directly),
	// empty for none.
	SkipRange string
	// Channels the bundle is published in; DefaultChannel must be one of them.
	Channels []string
	// DefaultChannel is the package's default channel.
	DefaultChannel string
	// OperatorImage replaces OperatorImagePlaceholder in the install strategy.
	OperatorImage string
	// CaddyImage replaces CaddyImagePlaceholder in the install strategy.
	CaddyImage string
}

// Image placeholders of config/manager.
const (
	OperatorImagePlaceholder = "controller:latest"
	CaddyImagePlaceholder    = "caddy:latest"
)

// File is one generated file, its path relative to the bundle directory.
type File struct {
	Path string
	Data []byte
}

// CSVName is the ClusterServiceVersion name of a package version.
func CSVName(pkg, version string) string { return pkg + ".v" + version }

func (o Options) validate() error {
	var errs []error
	if o.Package == "" {
		errs = append(errs, errors.New("package: must not be empty"))
	}
	if _, err := semver.Parse(o.Version); err != nil {
		errs = append(errs, fmt.Errorf("version %q: %w", o.Version, err))
	}
	if o.Replaces != "" {
		if _, err := semver.Parse(o.Replaces); err != nil {
			errs = append(errs, fmt.Errorf("replaces %q: %w", o.Replaces, err))
		}
	}
	if o.SkipRange != "" {
		if _, err := semver.ParseRange(o.SkipRange); err != nil {
			errs = append(errs, fmt.Errorf("skipRange %q: %w", o.SkipRange, err))
		}
	}
	if len(o.Channels) == 0 || slices.Contains(o.Channels, "") {
		errs = append(errs, fmt.Errorf("channels %q: name at least one channel, none empty", o.Channels))
	}
	if !slices.Contains(o.Channels, o.DefaultChannel) {
		errs = append(errs, fmt.Errorf("defaultChannel %q: must be one of the channels %q", o.DefaultChannel, o.Channels))
	}
	if o.OperatorImage == "" || o.CaddyImage == "" {
		errs = append(errs, errors.New("operatorImage, caddyImage: must not be empty"))
	}
	return errors.Join(errs...)
}

// Decode reads a multi-document YAML stream, as kustomize prints it, into objects.
func Decode(r io.Reader) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var objs []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		if err := dec.Decode(&u.Object); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(u.Object) > 0 {
			objs = append(objs, u)
		}
	}
}

// Generate builds the bundle's files from the objects of config/manifests.
func Generate(objs []*unstructured.Unstructured, o Options) ([]File, error) {
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("bundle options: %w", err)
	}
	in, err := sortInputs(objs)
	if err != nil {
		return nil, err
	}
	strategy, extra, err := installStrategy(in, o)
	if err != nil {
		return nil, err
	}
	csv, err := buildCSV(in, strategy, o)
	if err != nil {
		return nil, err
	}
	var files []File
	add := func(path string, obj map[string]any) error {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		files = append(files, File{Path: path, Data: b})
		return nil
	}
	if err := add("manifests/"+o.Package+".clusterserviceversion.yaml", csv); err != nil {
		return nil, err
	}
	for _, crd := range in.crds {
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		if err := add("manifests/"+group+"_"+plural+".yaml", cleanObject(crd)); err != nil {
			return nil, err
		}
	}
	for _, obj := range extra {
		if err := add("manifests/"+manifestFileName(obj), cleanObject(obj)); err != nil {
			return nil, err
		}
	}
	files = append(files, File{Path: "metadata/annotations.yaml", Data: annotationsYAML(o)})
	if err := add("tests/scorecard/config.yaml", cleanObject(in.scorecard)); err != nil {
		return nil, err
	}
	return files, nil
}

// manifestFileName names an extra object's file as operator-sdk does:
// <name>_<group>_<version>_<kind>.yaml, the group left out for the core API.
func manifestFileName(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	parts := []string{u.GetName()}
	if gvk.Group != "" {
		parts = append(parts, gvk.Group)
	}
	parts = append(parts, gvk.Version, strings.ToLower(gvk.Kind))
	return strings.Join(parts, "_") + ".yaml"
}

// cleanObject is obj without its namespace (OLM installs into the namespace of the
// OperatorGroup) and without server-set metadata.
func cleanObject(u *unstructured.Unstructured) map[string]any {
	c := u.DeepCopy()
	c.SetNamespace("")
	unstructured.RemoveNestedField(c.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(c.Object, "status")
	return c.Object
}

// Annotation keys of metadata/annotations.yaml (and the bundle image's labels).
const (
	annotationMediaType      = "operators.operatorframework.io.bundle.mediatype.v1"
	annotationManifests      = "operators.operatorframework.io.bundle.manifests.v1"
	annotationMetadata       = "operators.operatorframework.io.bundle.metadata.v1"
	annotationPackage        = "operators.operatorframework.io.bundle.package.v1"
	annotationChannels       = "operators.operatorframework.io.bundle.channels.v1"
	annotationDefaultChannel = "operators.operatorframework.io.bundle.channel.default.v1"
	annotationTestMediaType  = "operators.operatorframework.io.test.mediatype.v1"
	annotationTestConfig     = "operators.operatorframework.io.test.config.v1"
)

// Labels are the bundle's annotations, in a fixed order: metadata/annotations.yaml holds
// them and the bundle image carries them as labels.
func Labels(o Options) [][2]string {
	return [][2]string{
		{annotationMediaType, "registry+v1"},
		{annotationManifests, "manifests/"},
		{annotationMetadata, "metadata/"},
		{annotationPackage, o.Package},
		{annotationChannels, strings.Join(o.Channels, ",")},
		{annotationDefaultChannel, o.DefaultChannel},
		{annotationTestMediaType, "scorecard+v1"},
		{annotationTestConfig, "tests/scorecard/"},
	}
}

func annotationsYAML(o Options) []byte {
	var b strings.Builder
	b.WriteString("annotations:\n")
	for _, l := range Labels(o) {
		fmt.Fprintf(&b, "  %s: %s\n", l[0], l[1])
	}
	return []byte(b.String())
}

// Dockerfile is bundle.Dockerfile, which builds the bundle image from dir (the bundle
// directory relative to the build context) with a container engine.
func Dockerfile(o Options, dir string) []byte {
	var b strings.Builder
	b.WriteString("# The OLM bundle image. Generated by `make bundle`: do not edit.\nFROM scratch\n\n")
	for _, l := range Labels(o) {
		fmt.Fprintf(&b, "LABEL %s=%s\n", l[0], l[1])
	}
	fmt.Fprintf(&b, "\nCOPY %s/manifests /manifests/\nCOPY %s/metadata /metadata/\nCOPY %s/tests/scorecard /tests/scorecard/\n", dir, dir, dir)
	return []byte(b.String())
}
