{% set port = 80 %}
x:
  test.show_notification:
    - text: "{{ port | nosuchfilter }}"
