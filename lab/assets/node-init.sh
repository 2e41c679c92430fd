#!/bin/sh
# PID 1 of a lab node's fresh pid/mount/uts/ipc/cgroup namespaces (already inside the node's
# network namespace). Builds the node's private view of the host tree, then execs systemd.
#   /etc /var /usr /opt /srv  overlays: the host's tree below, NODE/upper/<dir> above, so
#                             packages, configs and state files land in the node only
#   /run /tmp /var/tmp        fresh tmpfs (paths in KEEP stay visible at the same place)
#   /etc/systemd/system, /usr/lib/systemd/system, /var/lib/systemd: the node's own dirs
#                             (no unit of the host is loaded, none of its generators run)
#   /proc/sys                 read-only, except /proc/sys/net (this node's network namespace)
# Usage: node-init.sh NODE_DIR NAME KEEP(colon list) PYTHON
set -eu
ND=$1; NAME=$2; KEEP=$3; PY=$4
[ "$$" = 1 ] || { echo "node-init: not PID 1 of a new pid namespace" >&2; exit 99; }
# `mount -n`: never write the host's /run/mount/utab.
mount -n --make-rprivate /
mount -n --bind "$ND" "$ND"
# /dev/console: a pty copied into NODE/console.log (systemd's and the units' output).
"$PY" -c '
import os, sys
m, s = os.openpty()
open(sys.argv[1] + "/console.tty", "w").write(os.ttyname(s))
out = os.open(sys.argv[1] + "/console.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
while True:
    try:
        d = os.read(m, 65536)
    except OSError:
        break
    if not d:
        break
    os.write(out, d)
' "$ND" </dev/null >/dev/null 2>&1 &
i=0; while [ ! -s "$ND/console.tty" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
mount -n --bind "$(cat "$ND/console.tty")" /dev/console
# Fresh /run, /tmp, /var/tmp, built aside first so that KEEP paths below them can be bound in.
for d in run tmp var-tmp; do mkdir -p "$ND/mnt/$d"; done
mount -n -t tmpfs -o mode=0755,nosuid,nodev tmpfs "$ND/mnt/run"
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ND/mnt/tmp"
mount -n -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$ND/mnt/var-tmp"
mkdir -p "$ND/mnt/run/systemd/system.conf.d" "$ND/mnt/run/halite-lab/empty"
printf '[Manager]\nDefaultStandardOutput=tty\nDefaultStandardError=tty\n' \
    > "$ND/mnt/run/systemd/system.conf.d/50-halite-lab.conf"
IFS=:
for p in $KEEP; do
    [ -n "$p" ] || continue
    case "$p" in
        /tmp/*)     t="$ND/mnt/tmp/${p#/tmp/}" ;;
        /var/tmp/*) t="$ND/mnt/var-tmp/${p#/var/tmp/}" ;;
        /run/*)     t="$ND/mnt/run/${p#/run/}" ;;
        *)          continue ;;
    esac
    mkdir -p "$t"; mount -n --bind "$p" "$t"
done
unset IFS
# The overlays.
for d in etc var usr opt srv; do
    mkdir -p "$ND/upper/$d" "$ND/work/$d" "/$d"
    mount -n -t overlay overlay -o "lowerdir=/$d,upperdir=$ND/upper/$d,workdir=$ND/work/$d" "/$d"
done
mkdir -p "$ND/units" "$ND/vendor-units" "$ND/var-lib-systemd"
mount -n --bind "$ND/units" /etc/systemd/system
mount -n --bind "$ND/vendor-units" /usr/lib/systemd/system
mount -n --bind "$ND/var-lib-systemd" /var/lib/systemd
mount -n --bind /proc/sys /proc/sys
mount -n --bind /proc/sys/net /proc/sys/net
mount -n -o remount,bind,ro /proc/sys
last=""
for pair in run:/run var-tmp:/var/tmp tmp:/tmp; do
    case "$ND/" in "${pair#*:}"/*) last=$pair; continue ;; esac
    mount -n --move "$ND/mnt/${pair%%:*}" "${pair#*:}"
done
[ -z "$last" ] || mount -n --move "$ND/mnt/${last%%:*}" "${last#*:}"
mount -n -t cgroup2 cgroup2 /sys/fs/cgroup
hostname "$NAME"
exec env -i container=halite-lab PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    SYSTEMD_UNIT_PATH=/etc/systemd/system:/run/systemd/system.control:/run/systemd/transient:/run/systemd/system:/usr/lib/systemd/system \
    SYSTEMD_GENERATOR_PATH=/run/halite-lab/empty SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/halite-lab/empty \
    /lib/systemd/systemd --system --unit=multi-user.target --show-status=no \
    --log-target=console --log-level=info --log-color=no
