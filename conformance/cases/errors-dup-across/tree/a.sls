same:
  test.nop
