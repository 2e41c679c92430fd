extend:
  ghost:
    test.nop:
      - foo: bar
ok:
  test.nop
