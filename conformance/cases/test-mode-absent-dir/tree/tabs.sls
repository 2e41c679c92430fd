gone_dir:
  file.absent:
    - name: @ROOT@/work/dir

gone_file:
  file.absent:
    - name: @ROOT@/work/file.txt

missing:
  file.absent:
    - name: @ROOT@/work/none
