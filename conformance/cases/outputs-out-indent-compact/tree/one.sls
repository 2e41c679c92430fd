only:
  test.succeed_with_changes
