# Every node is a Kubernetes node (containerd, kubelet); roles add to it. Roles come from the
# pillar (pillar/topology.sls through pillar/node.sls), so targeting is by pillar.
base:
  '*':
    - base
    - roles.cleanup
  'I@roles:bootstrap':
    - match: compound
    - roles.bootstrap
  'I@roles:etcd':
    - match: compound
    - roles.etcd
  'I@roles:master':
    - match: compound
    - roles.master
  'I@roles:infra':
    - match: compound
    - roles.infra
