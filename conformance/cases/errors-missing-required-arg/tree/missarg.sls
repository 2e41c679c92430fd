no_target:
  file.symlink:
    - name: @ROOT@/work/link

no_pattern:
  file.replace:
    - name: @ROOT@/work/f.txt

fine:
  test.nop
