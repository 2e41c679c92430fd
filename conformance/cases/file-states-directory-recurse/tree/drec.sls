tree:
  file.directory:
    - name: @ROOT@/work/tree
    - dir_mode: '0750'
    - file_mode: '0640'
    - recurse:
      - mode

show:
  cmd.run:
    - name: cd @ROOT@/work/tree && stat -c '%n %a' . sub sub/f.txt
    - require:
      - file: tree
