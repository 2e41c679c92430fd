include:
  - shwinc

many:
  test.nop:
    - names:
      - n1
      - n2

extend:
  inc_state:
    test.nop:
      - name: extended
