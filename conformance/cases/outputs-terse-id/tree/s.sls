a:
  test.succeed_with_changes
b:
  test.succeed_without_changes
c:
  test.nop:
    - name: other name
