# Cluster-wide settings.
cluster:
  name: demo
  domain: cluster.local
  dns: [10.96.0.10]
  # The cluster's apt repository, served by the bootstrap node.
  repository:
    port: 8080
    dir: /srv/repo
  kubernetes:
    version: 1.35.0
    registry: registry.k8s.io
    service_cidr: 10.96.0.0/12
    # Set `apiserver` (and a kubeconfig on the nodes) to manage the Node objects' role labels
    # and taints through the Kubernetes API; without it they are carried by the kubelet
    # configuration only.
    apiserver: ''
    kubeconfig: /etc/kubernetes/admin.conf
  etcd:
    client_port: 2379
    peer_port: 2380
    token: halite-demo
