{% set root = grains['node_root'] %}
etcd_member:
  file.managed:
    - name: {{ root }}/etc/node/etcd-member
    - contents: "name={{ grains['id'] }} cluster={{ pillar['cluster_name'] }}"
    - makedirs: True
