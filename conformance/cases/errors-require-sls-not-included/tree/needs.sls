needs_sls:
  test.nop:
    - require:
      - sls: other
