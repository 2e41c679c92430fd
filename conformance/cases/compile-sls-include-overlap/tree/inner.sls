inner_state:
  test.succeed_without_changes

inner_second:
  test.nop
