dev:
  '*':
    - d
