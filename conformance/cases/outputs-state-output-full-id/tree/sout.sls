changed_one:
  test.succeed_with_changes

clean_one:
  test.succeed_without_changes:
    - name: a name that differs from the id

failed_one:
  test.fail_without_changes

cmd_one:
  cmd.run:
    - name: echo hi
