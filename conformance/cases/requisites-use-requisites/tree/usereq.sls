dep:
  test.succeed_without_changes

template:
  file.managed:
    - name: @ROOT@/work/t.txt
    - contents: shared content
    - mode: '0600'
    - onlyif: 'false'
    - require:
      - test: dep

copy:
  file.managed:
    - name: @ROOT@/work/copy.txt
    - use:
      - file: template
