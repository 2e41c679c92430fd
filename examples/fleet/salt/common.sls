{% set root = grains['node_root'] %}
node_dir:
  file.directory:
    - name: {{ root }}/etc/node
    - makedirs: True

node_identity:
  file.managed:
    - name: {{ root }}/etc/node/identity
    - source: salt://files/identity.j2
    - template: jinja
    - require:
      - file: node_dir
