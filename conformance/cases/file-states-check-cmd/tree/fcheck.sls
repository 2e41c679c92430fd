good_conf:
  file.managed:
    - name: @ROOT@/work/good.conf
    - contents: valid=1
    - check_cmd: grep -q valid

bad_conf:
  file.managed:
    - name: @ROOT@/work/bad.conf
    - contents: broken
    - check_cmd: grep -q valid

show:
  cmd.run:
    - name: 'cat @ROOT@/work/good.conf; ls @ROOT@/work'
    - require:
      - file: good_conf
