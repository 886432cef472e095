//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
)

// containerRSS is the resident memory of every container named container in the pods of
// ns whose name starts with prefix, by pod, from the kubelet's summary of every node.
func containerRSS(ctx context.Context, cfg *envconf.Config, ns, prefix, container string) (map[string]uint64, error) {
	cs, err := kubernetes.NewForConfig(cfg.Client().RESTConfig())
	if err != nil {
		return nil, err
	}
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	out := map[string]uint64{}
	for _, n := range nodes.Items {
		raw, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", n.Name, "proxy/stats/summary").DoRaw(ctx)
		if err != nil {
			return nil, fmt.Errorf("stats of node %s: %w", n.Name, err)
		}
		var summary struct {
			Pods []struct {
				PodRef     struct{ Name, Namespace string }
				Containers []struct {
					Name   string
					Memory struct {
						RSSBytes *uint64 `json:"rssBytes"`
					}
				}
			}
		}
		if err := json.Unmarshal(raw, &summary); err != nil {
			return nil, fmt.Errorf("stats of node %s: %w", n.Name, err)
		}
		for _, p := range summary.Pods {
			if p.PodRef.Namespace != ns || !strings.HasPrefix(p.PodRef.Name, prefix) {
				continue
			}
			for _, c := range p.Containers {
				if c.Name == container && c.Memory.RSSBytes != nil {
					out[p.PodRef.Name] = *c.Memory.RSSBytes
				}
			}
		}
	}
	return out, nil
}
