t:
  file.managed:
    - name: @ROOT@/work/t.txt
    - source: salt://f/t.j2
    - template: jinja
    - context: {x: 1}
    - defaults: {x: 0, y: 2}
show:
  cmd.run:
    - name: cat @ROOT@/work/t.txt
