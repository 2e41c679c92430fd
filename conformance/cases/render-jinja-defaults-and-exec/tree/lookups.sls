{% set missing = salt['pillar.get']('svc:nothing:here', 'fallback') %}
{% set missing_dict = salt['pillar.get']('nope', {}) %}
{% set svc = pillar.get('svc', {}) %}
{% set out = salt['cmd.run']('echo from-cmd') %}
missing_default:
  test.show_notification:
    - text: "{{ missing }} / {{ missing_dict.inner | default('dflt') }} / {{ svc.other | default('none') }}"

cmd_output:
  test.show_notification:
    - text: {{ out }}

{% for k, v in svc.ports.items() %}
port_{{ k }}:
  test.show_notification:
    - text: "{{ k }}={{ v }} #{{ loop.index }}"
{% endfor %}

{% for k, v in svc.ports | dictsort(reverse=true) %}
sorted_{{ k }}:
  test.show_notification:
    - text: {{ v }}
{% endfor %}

names_joined:
  test.show_notification:
    - text: "{{ svc.names | join('+') }} {{ svc.names | length }}"
