first:
  test.succeed_with_changes
second:
  test.show_notification:
    - text: after first
    - require:
      - test: first
third:
  test.nop
