{#- This node's view of topology.sls: its roles, IP and taints, after checking the whole
    topology. A mistake stops every node's highstate before any state runs, with a message
    naming the file and the key. #}
{%- import_yaml 'topology.sls' as topology_sls %}
{%- set known = ['bootstrap', 'master', 'etcd', 'infra', 'node'] %}
{%- set nodes = (topology_sls or {}).get('topology', {}).get('nodes') %}
{%- if not nodes %}
{{- raise("topology.sls: topology:nodes is missing or empty") }}
{%- endif %}
{%- set etcd_members = [] %}
{%- for name, node in nodes.items() %}
{%-   if not node or not node.get('ip') %}
{{-     raise("topology.sls: topology:nodes:" ~ name ~ ":ip is missing: every node needs its control-plane IP") }}
{%-   endif %}
{%-   if not node.get('roles') %}
{{-     raise("topology.sls: topology:nodes:" ~ name ~ ":roles is missing or empty") }}
{%-   endif %}
{%-   for role in node.roles %}
{%-     if role not in known %}
{{-       raise("topology.sls: topology:nodes:" ~ name ~ ":roles: unknown role '" ~ role ~ "' (known roles: " ~ known | join(', ') ~ ")") }}
{%-     endif %}
{%-   endfor %}
{%-   if 'etcd' in node.roles %}{% do etcd_members.append(name) %}{% endif %}
{%- endfor %}
{%- if not etcd_members %}
{{- raise("topology.sls: topology:nodes: no node has the etcd role; the last etcd member cannot be removed (give the role to another node first)") }}
{%- endif %}
{%- set me = nodes.get(grains['id']) %}
{%- if me is none %}
{{- raise("topology.sls: topology:nodes:" ~ grains['id'] ~ " is missing: every minion must be in the topology") }}
{%- endif %}
{%- if me.get('taints') is not none %}
{%-   set taints = me.taints %}
{%- elif 'node' in me.roles %}
{%-   set taints = [] %}
{%- else %}
{%-   set taints = [] %}
{%-   for role in me.roles %}
{%-     do taints.append({'key': 'node-role.kubernetes.io/' ~ role, 'effect': 'NoSchedule'}) %}
{%-   endfor %}
{%- endif %}
roles: {{ me.roles | json }}
node_ip: {{ me.ip }}
taints: {{ taints | json }}
