{#- The Kubernetes control plane as static pods, run by the node's kubelet. #}
{%- from "map.jinja" import cluster, node_ip, etcd_client_urls with context %}
{%- set k8s = cluster.kubernetes %}
{%- set components = {
      'kube-apiserver': [
        '--advertise-address=' ~ node_ip,
        '--etcd-servers=' ~ etcd_client_urls | join(','),
        '--service-cluster-ip-range=' ~ k8s.service_cidr,
        '--secure-port=6443',
      ],
      'kube-controller-manager': [
        '--bind-address=' ~ node_ip,
        '--service-cluster-ip-range=' ~ k8s.service_cidr,
        '--leader-elect=true',
      ],
      'kube-scheduler': [
        '--bind-address=' ~ node_ip,
        '--leader-elect=true',
      ],
    } %}
{%- for name, args in components.items() %}

static-pod-{{ name }}:
  kubelet.static_pod:
    - name: /etc/kubernetes/manifests/{{ name }}.yaml
    - manifest:
        apiVersion: v1
        kind: Pod
        metadata:
          name: {{ name }}
          namespace: kube-system
          labels:
            component: {{ name }}
            tier: control-plane
        spec:
          hostNetwork: true
          priorityClassName: system-node-critical
          containers:
            - name: {{ name }}
              image: {{ k8s.registry }}/{{ name }}:v{{ k8s.version }}
              command: {{ ([name] + args) | json }}
    - require:
      - kubelet: kubelet-config
{%- endfor %}
