gatekeeper:
  test.succeed_without_changes:
    - require_in:
      - sls: later

bad_gate:
  test.fail_without_changes:
    - require_in:
      - test: later_b
