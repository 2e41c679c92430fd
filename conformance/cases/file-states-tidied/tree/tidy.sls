tidy_dir:
  file.tidied:
    - name: @ROOT@/work/junk

mark:
  test.succeed_with_changes
