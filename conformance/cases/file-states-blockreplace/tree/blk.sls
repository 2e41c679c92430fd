new_block:
  file.blockreplace:
    - name: @ROOT@/work/a.conf
    - marker_start: "# BEGIN managed"
    - marker_end: "# END managed"
    - content: |
        key1=v1
        key2=v2
    - append_if_not_found: True

existing_block:
  file.blockreplace:
    - name: @ROOT@/work/b.conf
    - marker_start: "# START"
    - marker_end: "# STOP"
    - content: new inside
