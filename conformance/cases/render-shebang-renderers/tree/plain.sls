#!yaml
literal_braces:
  test.show_notification:
    - text: "{{ not rendered }}"
