base:
  '*':
    - common
  'G@roles:web':
    - web
  'node*':
    - common
dev:
  'node1':
    - devstuff
