stop_before:
  cmd.run:
    - name: echo stopping
    - prereq_in:
      - file: conf

conf:
  file.managed:
    - name: @ROOT@/work/app.conf
    - contents: new

quiet_prep:
  cmd.run:
    - name: echo never
    - prereq_in:
      - file: same

same:
  file.managed:
    - name: @ROOT@/work/same.conf
    - contents: same
