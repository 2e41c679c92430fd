base:
  '*':
    - bad
    - missing
