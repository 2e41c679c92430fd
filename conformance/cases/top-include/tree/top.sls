include:
  - extratop
base:
  '*':
    - a
