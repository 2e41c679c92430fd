owned_dir:
  file.directory:
    - name: @ROOT@/work/owned
    - user: root
    - group: root
    - mode: '0750'

owned_file:
  file.managed:
    - name: @ROOT@/work/owned/f.txt
    - contents: x
    - user: root
    - group: root
    - mode: '0640'
