base:
  '*':
    - b
