confs:
  file.managed:
    - names:
      - @ROOT@/work/a.conf
      - @ROOT@/work/b.conf
    - contents: x
    - listen_in:
      - cmd: reload

reload:
  cmd.run:
    - name: echo reloading

tail:
  test.nop
