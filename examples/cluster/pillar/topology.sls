# The cluster's topology: THE file an operator edits.
#
# Every node: its control-plane IP and its roles, any of
#   bootstrap  the node holding the salt-master and the cluster's apt repository
#   master     Kubernetes control plane (kube-apiserver, controller-manager, scheduler)
#   etcd       a member of the etcd cluster (keep an odd number; at least one)
#   infra      infrastructure workloads (ingress)
#   node       runs workloads
# A node without the `node` role is tainted `node-role.kubernetes.io/<role>:NoSchedule` for
# each of its roles, so workloads stay off it; `taints:` on a node replaces that default.
#
# Move a node to another role: edit its roles here, then `salt '*' state.highstate`.
topology:
  nodes:
    bootstrap:
      ip: 10.220.0.1
      roles: [bootstrap, master, etcd]
    cp-2:
      ip: 10.220.0.2
      roles: [master, etcd]
    cp-3:
      ip: 10.220.0.3
      roles: [master, etcd]
    infra-1:
      ip: 10.220.0.4
      roles: [infra]
    worker-1:
      ip: 10.220.0.5
      roles: [node]
