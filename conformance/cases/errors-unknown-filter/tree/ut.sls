{% if 3 is nosuchtest %}
y:
  test.nop
{% endif %}
