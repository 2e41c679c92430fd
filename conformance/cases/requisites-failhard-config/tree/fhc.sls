ok_first:
  test.succeed_with_changes

boom:
  cmd.run:
    - name: exit 4

never_runs:
  test.succeed_with_changes

also_never:
  test.nop
