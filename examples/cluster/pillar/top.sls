# Pillar top: every node gets the topology (the one file an operator edits), the cluster's
# settings, the host-level settings, and its own view of the topology (node.sls).
base:
  '*':
    - topology
    - cluster
    - host
    - node
