#!jinja|json
{% set n = 3 %}
{
  "json_state": {
    "test.show_notification": [
      {"text": "n is {{ n }}"}
    ]
  }
}
