{#- Infrastructure workloads: the ingress controller, pinned to infra nodes. #}
{%- from "map.jinja" import cluster with context %}

static-pod-ingress-controller:
  kubelet.static_pod:
    - name: /etc/kubernetes/manifests/ingress-controller.yaml
    - manifest:
        apiVersion: v1
        kind: Pod
        metadata:
          name: ingress-controller
          namespace: kube-system
          labels:
            component: ingress-controller
            tier: infra
        spec:
          hostNetwork: true
          tolerations:
            - key: node-role.kubernetes.io/infra
              operator: Exists
              effect: NoSchedule
          containers:
            - name: controller
              image: {{ cluster.kubernetes.registry }}/ingress-nginx/controller:v1.12.0
              args: [/nginx-ingress-controller, --election-id=ingress-controller-leader]
    - require:
      - kubelet: kubelet-config
