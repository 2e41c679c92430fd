# Host-level settings of a Kubernetes node: kernel modules, sysctls, swap.
host:
  kernel_modules: [br_netfilter, overlay]
  sysctl:
    net.ipv4.ip_forward: 1
    net.bridge.bridge-nf-call-iptables: 1
  swap_off: true
