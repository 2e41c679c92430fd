{#- What a node must undo when it loses a role (topology.sls edited): it leaves the etcd
    cluster first, then etcd stops; the role's static pods go away. Labels and taints follow
    the roles through kubelet-config (base). #}
{%- from "map.jinja" import cluster, roles, etcd_client_urls with context %}
{%- if 'etcd' not in roles %}

etcd-member-removed:
  etcd.member_absent:
    - name: {{ grains['id'] }}
    - endpoints: {{ etcd_client_urls | json }}
    - config: /etc/default/etcd
    - onlyif: test -d /var/lib/etcd/default/member
{%- endif %}
{%- if 'master' not in roles %}
{%-   for name in ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'] %}

static-pod-{{ name }}-removed:
  file.absent:
    - name: /etc/kubernetes/manifests/{{ name }}.yaml
{%-   endfor %}
{%- endif %}
{%- if 'infra' not in roles %}

static-pod-ingress-controller-removed:
  file.absent:
    - name: /etc/kubernetes/manifests/ingress-controller.yaml
{%- endif %}
