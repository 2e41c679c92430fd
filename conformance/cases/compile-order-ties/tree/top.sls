base:
  '*':
    - ties
