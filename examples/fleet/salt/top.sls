base:
  '*':
    - common
  'G@roles:etcd':
    - match: compound
    - etcd
