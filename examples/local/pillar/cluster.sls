node:
  roles: [bootstrap, etcd, master]
  hosts:
    bootstrap: 10.200.0.10
    node1: 10.200.0.11
kubelet:
  address: 0.0.0.0
  port: 10250
  cluster_dns: [10.96.0.10]
