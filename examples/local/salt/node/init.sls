{#- A small node configuration, applied under pillar['target'] (a temp dir in the demo). #}
{%- set target = salt['pillar.get']('target') %}
{%- if not target %}
{{ raise('pillar key "target" is required: the directory the example writes into') }}
{%- endif %}
{%- set node = salt['pillar.get']('node', {}) %}
include:
  - .kubelet

node_dirs:
  file.directory:
    - names:
      - {{ target }}/etc/kubernetes
      - {{ target }}/var/lib/kubelet
    - makedirs: True

node_hosts:
  file.managed:
    - name: {{ target }}/etc/hosts
    - contents:
{%- for host, ip in node.get('hosts', {}) | dictsort %}
      - {{ ip }} {{ host }}
{%- endfor %}
    - require:
      - file: node_dirs

node_roles:
  test.show_notification:
    - text: "{{ grains['id'] }} has roles {{ node.get('roles', []) | join(', ') }}"
