l:
  test.configurable_test_state:
    - changes: True
    - comment: [a, b]
