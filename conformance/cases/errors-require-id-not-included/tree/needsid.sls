needs_id:
  test.nop:
    - require:
      - test: other_state
