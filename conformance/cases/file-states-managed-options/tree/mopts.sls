hidden_diff:
  file.managed:
    - name: @ROOT@/work/hidden.txt
    - contents: new secret
    - show_changes: False

local_source:
  file.managed:
    - name: @ROOT@/work/copied.txt
    - source: @ROOT@/work/src.txt
    - skip_verify: True

no_newline:
  file.managed:
    - name: @ROOT@/work/nonl.txt
    - contents: no newline at end
    - contents_newline: False

show:
  cmd.run:
    - name: od -c @ROOT@/work/nonl.txt | head -2; cat @ROOT@/work/copied.txt; stat -c %a @ROOT@/work/hidden.txt
    - require:
      - file: no_newline
      - file: local_source
