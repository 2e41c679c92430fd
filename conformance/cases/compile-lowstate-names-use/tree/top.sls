base:
  '*':
    - lsn
