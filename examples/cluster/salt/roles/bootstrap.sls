{#- The bootstrap node: the cluster's apt repository and the salt-master's own settings. #}
{%- from "map.jinja" import cluster, node_ip with context %}

cluster-repository-server-unit:
  file.managed:
    - name: /etc/systemd/system/cluster-repo.service
    - contents: |
        [Unit]
        Description=The cluster's apt repository ({{ cluster.repository.dir }})
        After=network-online.target
        [Service]
        ExecStart=/usr/bin/python3 -m http.server {{ cluster.repository.port }} --bind {{ node_ip }} --directory {{ cluster.repository.dir }}
        Restart=always
        [Install]
        WantedBy=multi-user.target

cluster-repository-server:
  service.running:
    - name: cluster-repo
    - enable: true
    - watch:
      - file: cluster-repository-server-unit

salt-master-nodegroups:
  file.managed:
    - name: /etc/salt/master.d/nodegroups.conf
    - makedirs: true
    - contents: |
        # Managed by the bootstrap role: one nodegroup per role (salt -N etcd ...).
        nodegroups:
        {%- for role in ['bootstrap', 'master', 'etcd', 'infra', 'node'] %}
          {{ role }}: 'I@roles:{{ role }}'
        {%- endfor %}
