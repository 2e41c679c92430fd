include:
  - not.there

ok:
  test.nop
