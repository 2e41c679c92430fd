base_cfg: &cfg
  test.configurable_test_state:
    - changes: True
    - result: True
    - comment: shared comment

copy_cfg: *cfg

files:
  file.managed:
    - name: @ROOT@/work/m.txt
    - contents: &c "same body"

files2:
  file.managed:
    - name: @ROOT@/work/n.txt
    - contents: *c
