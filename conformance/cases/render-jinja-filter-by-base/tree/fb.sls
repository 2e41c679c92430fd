{% set lookup = {
  'common': {'pkg': 'nginx', 'port': 80, 'opts': {'a': 1, 'b': 2}},
  'web': {'port': 8080, 'opts': {'b': 20}},
  'db': {'pkg': 'postgres'},
} %}
{% set web = salt['grains.filter_by'](lookup, grain='role', base='common') %}
{% set miss = salt['grains.filter_by'](lookup, grain='tier', base='common', default='db') %}
{% set merged = salt['grains.filter_by'](lookup, grain='role', base='common', merge={'port': 9000}) %}
web:
  test.show_notification:
    - text: "{{ web.pkg }} {{ web.port }} {{ web.opts.a }} {{ web.opts.b }}"

miss:
  test.show_notification:
    - text: "{{ miss.pkg }} {{ miss.port }}"

merged:
  test.show_notification:
    - text: "{{ merged.port }} {{ merged.pkg }}"
