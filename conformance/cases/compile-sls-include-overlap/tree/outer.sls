include:
  - inner

outer_state:
  test.succeed_with_changes:
    - require:
      - test: inner_state
