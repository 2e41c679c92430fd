{%- from "map.jinja" import cluster, roles, node_ip, repo_url with context %}
include:
  - base.host

cluster-repository:
  pkgrepo.managed:
    - name: deb [trusted=yes] {{ repo_url }} ./
    - file: /etc/apt/sources.list.d/cluster.list

container-runtime:
  pkg.installed:
    - name: containerd-standin
    - require:
      - pkgrepo: cluster-repository
  service.running:
    - name: containerd
    - enable: true
    - require:
      - pkg: container-runtime

kubelet-package:
  pkg.installed:
    - name: kubelet-standin
    - require:
      - pkgrepo: cluster-repository

kubelet-config:
  kubelet.configured:
    - name: /var/lib/kubelet/config.yaml
    - node_ip: {{ node_ip }}
    - hostname_override: {{ grains['id'] }}
    - roles: {{ roles | json }}
    - taints: {{ pillar.get('taints', []) | json }}
    - cluster_dns: {{ cluster.dns | json }}
    - cluster_domain: {{ cluster.domain }}
    - address: {{ node_ip }}
    - static_pod_path: /etc/kubernetes/manifests
    - kube_reserved:
        cpu: 100m
        memory: 256Mi
    - require:
      - pkg: kubelet-package

kubelet:
  service.running:
    - enable: true
    - require:
      - service: container-runtime
    - watch:
      - kubelet: kubelet-config

{%- if cluster.kubernetes.apiserver %}

node-role-labels:
  k8s_node.labels:
    - name: {{ grains['id'] }}
    - roles: {{ roles | json }}
    - kubeconfig: {{ cluster.kubernetes.kubeconfig }}
    - require:
      - service: kubelet

node-role-taints:
  k8s_node.taints:
    - name: {{ grains['id'] }}
    - taints: {{ pillar.get('taints', []) | json }}
    - kubeconfig: {{ cluster.kubernetes.kubeconfig }}
    - require:
      - service: kubelet
{%- endif %}
