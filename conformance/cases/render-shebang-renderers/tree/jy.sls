#!jinja|yaml
{% for i in range(2) %}
jy_{{ i }}:
  test.show_notification:
    - text: "item {{ i }}"
{% endfor %}
