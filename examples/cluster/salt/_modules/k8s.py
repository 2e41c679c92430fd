"""
Cluster topology lookups: the real-Salt twin of Halite's native ``k8s.*`` execution
functions (``k8s/src/topology.rs``). Both give the same results and the same error texts.

They read the pillar key ``topology:nodes``, a mapping of node id to
``{roles: [...], ip: ..., taints: [...]}``::

    salt-call k8s.minions_by_role etcd
    salt-call k8s.roles            # this minion's roles
    salt-call k8s.control_plane_ip cp-1
    salt-call k8s.node worker-1
"""

from salt.exceptions import CommandExecutionError

__virtualname__ = "k8s"

NODES_KEY = "topology:nodes"


def __virtual__():
    return __virtualname__


def _missing(key):
    return CommandExecutionError(f"pillar key '{key}' is missing")


def _not_a(key, what):
    return CommandExecutionError(f"pillar key '{key}' is not a {what}")


def _nodes():
    topology = __pillar__.get("topology")
    if not isinstance(topology, dict) or "nodes" not in topology:
        raise _missing(NODES_KEY)
    nodes = topology["nodes"]
    if not isinstance(nodes, dict):
        raise _not_a(NODES_KEY, "mapping")
    return nodes


def _roles_of(entry, key):
    roles = entry.get("roles")
    if roles is None:
        return []
    if not isinstance(roles, list):
        raise _not_a(f"{key}:roles", "list")
    return list(roles)


def _node_id(node):
    if node is not None:
        return str(node)
    if __opts__.get("id") is None:
        raise CommandExecutionError("minion option 'id' is not set")
    return str(__opts__["id"])


def minions_by_role(role):
    """
    The ids of the nodes that have ``role``, sorted.

    CLI Example: ``salt-call k8s.minions_by_role etcd``
    """
    ids = []
    for node_id, entry in _nodes().items():
        key = f"{NODES_KEY}:{node_id}"
        if not isinstance(entry, dict):
            raise _not_a(key, "mapping")
        if str(role) in [str(r) for r in _roles_of(entry, key)]:
            ids.append(str(node_id))
    return sorted(ids)


def _entry(node_id):
    key = f"{NODES_KEY}:{node_id}"
    for candidate, entry in _nodes().items():
        if str(candidate) == node_id:
            if not isinstance(entry, dict):
                raise _not_a(key, "mapping")
            return entry
    raise _missing(key)


def node(node=None):
    """
    The whole entry of ``node`` (default: this minion).

    CLI Example: ``salt-call k8s.node worker-1``
    """
    return _entry(_node_id(node))


def roles(node=None):
    """
    The roles of ``node`` (default: this minion); ``[]`` when it has none.

    CLI Example: ``salt-call k8s.roles``
    """
    node_id = _node_id(node)
    return _roles_of(_entry(node_id), f"{NODES_KEY}:{node_id}")


def control_plane_ip(node=None):
    """
    The ``ip`` of ``node`` (default: this minion).

    CLI Example: ``salt-call k8s.control_plane_ip cp-1``
    """
    node_id = _node_id(node)
    ip = _entry(node_id).get("ip")
    if ip is None:
        raise _missing(f"{NODES_KEY}:{node_id}:ip")
    return str(ip)
