{#- Kernel modules, sysctls and swap, as pillar/host.sls says. #}
{%- set host = pillar.get('host', {}) %}
{%- for mod in host.get('kernel_modules', []) %}

kernel-module-{{ mod }}:
  kmod.present:
    - name: {{ mod }}
    - persist: true
{%- endfor %}
{%- for key, value in host.get('sysctl', {}).items() %}

sysctl-{{ key }}:
  sysctl.present:
    - name: {{ key }}
    - value: {{ value }}
{%- endfor %}
{%- if host.get('swap_off') %}

swap-off:
  cmd.run:
    - name: swapoff -a
    - onlyif: test -n "$(tail -n +2 /proc/swaps)"
{%- endif %}
