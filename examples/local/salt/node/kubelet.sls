{%- set target = salt['pillar.get']('target') %}
{%- set kubelet = salt['pillar.get']('kubelet', {}) %}
kubelet_config:
  file.managed:
    - name: {{ target }}/var/lib/kubelet/config.yaml
    - makedirs: True
    - mode: '0640'
    - contents: |
        kind: KubeletConfiguration
        apiVersion: kubelet.config.k8s.io/v1beta1
        address: {{ kubelet.get('address', '0.0.0.0') }}
        port: {{ kubelet.get('port', 10250) }}
        clusterDNS:
{%- for dns in kubelet.get('cluster_dns', []) %}
          - {{ dns }}
{%- endfor %}

kubelet_restart:
  cmd.run:
    - name: echo "kubelet would restart (config changed)"
    - onchanges:
      - file: kubelet_config
