{#- An etcd member: Debian's etcd-server, configured on the node's control-plane IP, joined
    to the cluster through a healthy member before it starts (the first member bootstraps). #}
{%- from "map.jinja" import cluster, roles, node_ip, etcd_nodes, etcd_client_urls with context %}
{%- set me = grains['id'] %}
{%- set peer_url = 'http://' ~ node_ip ~ ':' ~ cluster.etcd.peer_port %}
{%- set bootstrap_nodes = salt['k8s.minions_by_role']('bootstrap') | select('in', etcd_nodes) | list %}
{%- set first_member = (bootstrap_nodes or etcd_nodes) | first %}
{%- set others = [] %}
{%- set names = {} %}
{%- for n in etcd_nodes %}
{%-   set ip = salt['k8s.control_plane_ip'](n) %}
{%-   do names.update({'http://' ~ ip ~ ':' ~ cluster.etcd.peer_port: n}) %}
{%-   if n != me %}{% do others.append('http://' ~ ip ~ ':' ~ cluster.etcd.client_port) %}{% endif %}
{%- endfor %}

etcd-config:
  etcd.configured:
    - name: /etc/default/etcd
    - member_name: {{ me }}
    - ip: {{ node_ip }}
    - client_port: {{ cluster.etcd.client_port }}
    - peer_port: {{ cluster.etcd.peer_port }}
    - cluster_token: {{ cluster.etcd.token }}

etcd-member:
  etcd.member_present:
    - name: {{ me }}
    - peer_url: {{ peer_url }}
    - endpoints: {{ others | json }}
    - peer_names: {{ names | json }}
    - bootstrap: {{ me == first_member }}
    - config: /etc/default/etcd
    - require:
      - etcd: etcd-config

etcd-package:
  pkg.installed:
    - name: etcd-server
    - require:
      - pkgrepo: cluster-repository
      - etcd: etcd-member

etcd-service:
  service.running:
    - name: etcd
    - enable: true
    - require:
      - pkg: etcd-package
    - watch:
      - etcd: etcd-config

etcd-health:
  etcd.healthy:
    - name: etcd cluster
    - endpoints: {{ etcd_client_urls | json }}
    - members: {{ etcd_client_urls | length }}
    - require:
      - service: etcd-service
