later_a:
  test.succeed_without_changes

later_b:
  test.succeed_with_changes
