cleaned:
  file.directory:
    - name: @ROOT@/work/cl
    - clean: True

mark:
  test.configurable_test_state:
    - changes: True
    - comment: [first line, second line]
    - warnings: [careful now]
