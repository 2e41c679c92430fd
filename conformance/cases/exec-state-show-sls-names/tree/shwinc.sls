inc_state:
  test.nop
