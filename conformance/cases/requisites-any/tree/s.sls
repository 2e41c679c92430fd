ch:
  test.succeed_with_changes
nc:
  test.succeed_without_changes
oa:
  test.show_notification:
    - text: one changed
    - onchanges_any:
      - test: ch
      - test: nc
wa:
  cmd.wait:
    - name: echo fired
    - watch_any:
      - test: ch
      - test: nc
req_name:
  test.nop:
    - require:
      - test: other_name_ref
named:
  test.nop:
    - name: other_name_ref
