would:
  test.succeed_with_changes
cmd_x:
  cmd.run:
    - name: echo hi
