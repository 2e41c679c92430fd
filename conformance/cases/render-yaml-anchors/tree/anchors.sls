common_list: &clist
  test.nop:
    - name: shared

first_file:
  file.managed:
    - name: @ROOT@/work/a
    - contents: &body |
        line one
        line two

second_file:
  file.managed:
    - name: @ROOT@/work/b
    - contents: *body

alias_state: *clist

base_note:
  test.show_notification:
    - text: base
    - data: &defaults
        user: root
        mode: '0644'

merged:
  test.show_notification:
    - text: merged
    - data:
        <<: *defaults
        mode: '0600'
        extra: true
