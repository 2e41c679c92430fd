breaks:
  cmd.run:
    - name: echo bad; exit 1

waiter:
  cmd.wait:
    - name: echo should not
    - watch:
      - cmd: breaks

maker:
  file.managed:
    - name: @ROOT@/work/made.txt
    - contents: z

by_name:
  cmd.run:
    - name: echo made changed
    - onchanges:
      - file: @ROOT@/work/made.txt
