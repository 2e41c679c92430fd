include:
  - lowinc

pkgs:
  test.nop:
    - names:
      - p1
      - p2
    - require_in:
      - test: inc_state

svc:
  cmd.run:
    - name: echo svc
    - listen_in:
      - test: inc_state
