package bundle

import (
	"fmt"
	"slices"

	operatorsv1alpha1 "github.com/operator-framework/api/pkg/operators/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// installStrategy turns the deployments and the RBAC bound to their service accounts into
// the CSV's install strategy. It returns the objects shipped beside the CSV: roles and
// bindings not bound to those service accounts, and the other shipped kinds.
func installStrategy(in inputs, o Options) (operatorsv1alpha1.StrategyDetailsDeployment, []*unstructured.Unstructured, error) {
	var s operatorsv1alpha1.StrategyDetailsDeployment
	accounts := map[string]bool{}
	for _, u := range in.deployments {
		var d appsv1.Deployment
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &d); err != nil {
			return s, nil, fmt.Errorf("deployment %s: %w", u.GetName(), err)
		}
		setImages(&d.Spec, o)
		sa := d.Spec.Template.Spec.ServiceAccountName
		if sa == "" {
			return s, nil, fmt.Errorf("deployment %s: spec.template.spec.serviceAccountName must name the operator's ServiceAccount", d.Name)
		}
		accounts[sa] = true
		s.DeploymentSpecs = append(s.DeploymentSpecs, operatorsv1alpha1.StrategyDeploymentSpec{
			Name: d.Name, Label: d.Labels, Spec: d.Spec,
		})
	}
	for _, sa := range in.serviceAccounts {
		if !accounts[sa.GetName()] {
			return s, nil, fmt.Errorf("ServiceAccount %s: no deployment runs as it, and OLM only creates those that do", sa.GetName())
		}
	}
	roles := map[string]*unstructured.Unstructured{} // Kind/name
	for _, r := range in.roles {
		roles[r.GetKind()+"/"+r.GetName()] = r
	}
	bound := map[*unstructured.Unstructured]bool{}
	var extra []*unstructured.Unstructured
	for _, b := range in.bindings {
		var rb rbacv1.ClusterRoleBinding // RoleBinding has the same fields
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(b.Object, &rb); err != nil {
			return s, nil, fmt.Errorf("%s %s: %w", b.GetKind(), b.GetName(), err)
		}
		sa := boundAccount(rb.Subjects, accounts)
		if sa == "" {
			extra = append(extra, b)
			continue
		}
		role := roles[rb.RoleRef.Kind+"/"+rb.RoleRef.Name]
		if role == nil {
			return s, nil, fmt.Errorf("%s %s: roleRef %s %s is not in config/rbac", b.GetKind(), b.GetName(), rb.RoleRef.Kind, rb.RoleRef.Name)
		}
		bound[role] = true
		rules, err := policyRules(role)
		if err != nil {
			return s, nil, err
		}
		if b.GetKind() == "ClusterRoleBinding" {
			s.ClusterPermissions = addRules(s.ClusterPermissions, sa, rules)
		} else {
			s.Permissions = addRules(s.Permissions, sa, rules)
		}
	}
	for _, r := range in.roles {
		if !bound[r] {
			extra = append(extra, r)
		}
	}
	return s, append(extra, in.others...), nil
}

// boundAccount is the first subject naming one of the accounts, "" if none does.
func boundAccount(subjects []rbacv1.Subject, accounts map[string]bool) string {
	for _, sub := range subjects {
		if sub.Kind == rbacv1.ServiceAccountKind && accounts[sub.Name] {
			return sub.Name
		}
	}
	return ""
}

func policyRules(role *unstructured.Unstructured) ([]rbacv1.PolicyRule, error) {
	var r rbacv1.ClusterRole // Role has the same rules field
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(role.Object, &r); err != nil {
		return nil, fmt.Errorf("%s %s: %w", role.GetKind(), role.GetName(), err)
	}
	return r.Rules, nil
}

// addRules appends rules to the account's entry of perms, creating it when missing.
func addRules(perms []operatorsv1alpha1.StrategyDeploymentPermissions, sa string, rules []rbacv1.PolicyRule) []operatorsv1alpha1.StrategyDeploymentPermissions {
	i := slices.IndexFunc(perms, func(p operatorsv1alpha1.StrategyDeploymentPermissions) bool { return p.ServiceAccountName == sa })
	if i < 0 {
		return append(perms, operatorsv1alpha1.StrategyDeploymentPermissions{ServiceAccountName: sa, Rules: rules})
	}
	perms[i].Rules = append(perms[i].Rules, rules...)
	return perms
}

// setImages replaces the image placeholders in the containers' images and in the values
// of their environment variables (the operator reads its own and Caddy's image from them).
func setImages(spec *appsv1.DeploymentSpec, o Options) {
	images := map[string]string{OperatorImagePlaceholder: o.OperatorImage, CaddyImagePlaceholder: o.CaddyImage}
	pod := &spec.Template.Spec
	for _, cs := range [][]corev1.Container{pod.InitContainers, pod.Containers} {
		for i := range cs {
			c := &cs[i]
			if img, ok := images[c.Image]; ok {
				c.Image = img
			}
			for j := range c.Env {
				if img, ok := images[c.Env[j].Value]; ok {
					c.Env[j].Value = img
				}
			}
		}
	}
}
