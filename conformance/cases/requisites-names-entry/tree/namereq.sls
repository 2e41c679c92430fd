files:
  file.managed:
    - names:
      - @ROOT@/work/one.txt
      - @ROOT@/work/two.txt
    - contents: hi

after_two:
  test.succeed_without_changes:
    - require:
      - file: @ROOT@/work/two.txt

greeting:
  cmd.run:
    - name: echo greet

after_greeting_by_name:
  cmd.run:
    - name: echo after
    - require:
      - cmd: echo greet

watcher:
  cmd.wait:
    - name: echo one changed
    - watch:
      - file: @ROOT@/work/one.txt
