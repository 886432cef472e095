package controller

import (
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func TestIsImmutableFieldChange(t *testing.T) {
	invalid := func(gk schema.GroupKind, errs ...*field.Error) error {
		return apierrors.NewInvalid(gk, "gw-caddy", errs)
	}
	service, deployment := schema.GroupKind{Kind: "Service"}, schema.GroupKind{Group: "apps", Kind: "Deployment"}
	tests := map[string]struct {
		err  error
		want bool
	}{
		"Service loadBalancerClass": {
			err:  invalid(service, field.Invalid(field.NewPath("spec", "loadBalancerClass"), "b", "may not change once set")),
			want: true,
		},
		"Deployment selector": {
			err: invalid(deployment, field.Invalid(field.NewPath("spec", "selector"), nil, "field is immutable"),
				field.Invalid(field.NewPath("spec", "template", "metadata", "labels"), nil, "`selector` does not match template `labels`")),
			want: true,
		},
		"wrapped": {
			err:  fmt.Errorf("applying: %w", invalid(deployment, field.Invalid(field.NewPath("spec", "selector"), nil, "field is immutable"))),
			want: true,
		},
		"an invalid value": {
			err:  invalid(service, field.Invalid(field.NewPath("spec", "ports").Index(0).Child("port"), 0, "must be between 1 and 65535")),
			want: false,
		},
		"a conflict mentioning immutable": {
			err:  apierrors.NewConflict(schema.GroupResource{Resource: "services"}, "gw-caddy", errors.New("field is immutable")),
			want: false,
		},
		"not an API error": {err: errors.New("field is immutable"), want: false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := isImmutableFieldChange(tc.err); got != tc.want {
				t.Errorf("isImmutableFieldChange(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}
