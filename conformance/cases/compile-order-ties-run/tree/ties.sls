zeta:
  test.nop:
    - order: 5

alpha:
  test.nop:
    - order: 5

first_b:
  test.nop:
    - order: first

first_a:
  test.nop:
    - order: first

neg:
  test.nop:
    - order: -1

plain:
  test.nop

many:
  test.nop:
    - names:
      - m1
      - m2:
        - order: 1
    - order: 7
