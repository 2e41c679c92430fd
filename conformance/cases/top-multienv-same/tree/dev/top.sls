dev:
  '*':
    - devall
  'node1':
    - devnode
base:
  '*':
    - frombase_in_dev
