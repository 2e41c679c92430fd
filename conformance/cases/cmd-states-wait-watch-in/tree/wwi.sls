conf:
  file.managed:
    - name: @ROOT@/work/conf
    - contents: v1
    - watch_in:
      - cmd: on_conf

on_conf:
  cmd.wait:
    - name: echo conf changed

steady:
  test.succeed_without_changes:
    - watch_in:
      - cmd: on_steady

on_steady:
  cmd.wait:
    - name: echo never
