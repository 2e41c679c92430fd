base:
  'node1':
    - b
