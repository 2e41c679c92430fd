as_root:
  cmd.run:
    - name: id -un
    - runas: root

env_map:
  cmd.run:
    - name: echo "$ALPHA-$BETA"
    - env:
        ALPHA: one
        BETA: two

with_umask:
  cmd.run:
    - name: 'touch @ROOT@/work/masked && stat -c %a @ROOT@/work/masked'
    - umask: '077'

creates_all_present:
  cmd.run:
    - name: echo skipped
    - creates:
      - @ROOT@/work/c1
      - @ROOT@/work/c2

creates_one_missing:
  cmd.run:
    - name: echo ran
    - creates:
      - @ROOT@/work/c1
      - @ROOT@/work/nope
