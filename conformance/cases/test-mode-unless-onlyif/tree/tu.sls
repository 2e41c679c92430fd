skipped_by_unless:
  cmd.run:
    - name: echo nope
    - unless: 'true'

runs_unless:
  cmd.run:
    - name: echo yes
    - unless: 'false'

skipped_by_onlyif:
  file.managed:
    - name: @ROOT@/work/f.txt
    - contents: x
    - onlyif: test -e @ROOT@/work/missing

file_unless_runs:
  file.managed:
    - name: @ROOT@/work/g.txt
    - contents: x
    - unless: test -e @ROOT@/work/missing

creates_present:
  cmd.run:
    - name: echo make
    - creates: @ROOT@/work/seed.txt
