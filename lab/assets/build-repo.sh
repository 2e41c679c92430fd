#!/usr/bin/env bash
# The cluster's apt repository (a flat one: Packages, Packages.gz, Release), built into REPO:
# the stand-in packages made here with dpkg-deb, and Debian's real etcd-server, taken from
# CACHE (downloaded there with `apt-get download` the first time).
#   containerd-standin, kubelet-standin: no containerd or kubelet package can be had here; the
#   stand-ins ship the same binary paths and systemd units, and do what a test can see: the
#   kubelet stand-in reads its --config file and the flags, writes what it would register
#   (labels, taints) to /run/kubelet-standin/registration, and fails when its config is gone.
# Usage: build-repo.sh REPO CACHE
set -euo pipefail
REPO=$1; CACHE=$2
mkdir -p "$REPO" "$CACHE"
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
command -v dpkg-scanpackages >/dev/null || {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dpkg-dev >&2; }

build() { # build NAME VERSION DESCRIPTION (files already staged in $W/NAME)
    local name=$1 version=$2 desc=$3 d=$W/$1
    mkdir -p "$d/DEBIAN"
    cat > "$d/DEBIAN/control" <<CTL
Package: $name
Version: $version
Architecture: all
Maintainer: Halite lab <lab@halite.invalid>
Section: admin
Priority: optional
Description: $desc
 Built by Halite's lab for the demo cluster; not the real program.
CTL
    dpkg-deb --root-owner-group --build "$d" "$REPO/${name}_${version}_all.deb" >/dev/null
}

mkdir -p "$W/containerd-standin/usr/bin" "$W/containerd-standin/usr/lib/systemd/system"
cat > "$W/containerd-standin/usr/bin/containerd" <<'SH'
#!/bin/sh
# containerd stand-in (Halite lab): holds the runtime socket path open, runs no containers.
mkdir -p /run/containerd
exec python3 -c '
import os, socket, time
p = "/run/containerd/containerd.sock"
try: os.unlink(p)
except FileNotFoundError: pass
s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(1)
print("containerd stand-in listening on", p, flush=True)
while True: time.sleep(3600)
'
SH
cat > "$W/containerd-standin/usr/lib/systemd/system/containerd.service" <<'UNIT'
[Unit]
Description=containerd stand-in (Halite lab)
After=network.target
[Service]
ExecStart=/usr/bin/containerd
Restart=always
[Install]
WantedBy=multi-user.target
UNIT
chmod 0755 "$W/containerd-standin/usr/bin/containerd"
build containerd-standin 1.7.0-1 "containerd stand-in for the Halite lab"

mkdir -p "$W/kubelet-standin/usr/bin" "$W/kubelet-standin/usr/lib/systemd/system"
cat > "$W/kubelet-standin/usr/bin/kubelet" <<'SH'
#!/bin/sh
# kubelet stand-in (Halite lab): checks its inputs as a kubelet would at start, records what it
# would register, then idles. Exits 1 (systemd restarts it) when the config file is missing.
config=""; labels=""; nodeip=""; host=""
for a in "$@"; do
    case "$a" in
        --config=*) config=${a#--config=} ;;
        --node-labels=*) labels=${a#--node-labels=} ;;
        --node-ip=*) nodeip=${a#--node-ip=} ;;
        --hostname-override=*) host=${a#--hostname-override=} ;;
    esac
done
[ -n "$config" ] && [ -r "$config" ] || { echo "kubelet stand-in: config '$config' not readable" >&2; exit 1; }
[ -S /run/containerd/containerd.sock ] || echo "kubelet stand-in: container runtime socket missing" >&2
mkdir -p /run/kubelet-standin
{
    echo "node: ${host:-$(hostname)}"
    echo "node-ip: $nodeip"
    echo "labels: $labels"
    echo "taints:"; sed -n '/^registerWithTaints:/,/^[^ -]/p' "$config" | sed '1d;$d'
} > /run/kubelet-standin/registration
echo "kubelet stand-in: registered $(tr '\n' ' ' < /run/kubelet-standin/registration)"
while [ -r "$config" ]; do sleep 5; done
echo "kubelet stand-in: config $config disappeared" >&2; exit 1
SH
cat > "$W/kubelet-standin/usr/lib/systemd/system/kubelet.service" <<'UNIT'
[Unit]
Description=kubelet stand-in (Halite lab)
After=containerd.service
[Service]
ExecStart=/usr/bin/kubelet
Restart=always
RestartSec=2
[Install]
WantedBy=multi-user.target
UNIT
chmod 0755 "$W/kubelet-standin/usr/bin/kubelet"
build kubelet-standin 1.35.0-1 "kubelet stand-in for the Halite lab"

# Debian's etcd-server, as Debian ships it.
deb=$(ls "$CACHE"/etcd-server_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
    echo "lab: downloading Debian's etcd-server into $CACHE" >&2
    # Stale or missing package lists: refresh them once and retry.
    (cd "$CACHE" && { apt-get download etcd-server >&2 || { apt-get update -qq >&2 && apt-get download etcd-server >&2; }; })
    deb=$(ls "$CACHE"/etcd-server_*.deb | tail -1)
fi
cp "$deb" "$REPO/"

(cd "$REPO" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null)
gzip -9cn "$REPO/Packages" > "$REPO/Packages.gz"
{
    echo "Origin: halite-lab"
    echo "Label: halite-lab"
    echo "Suite: cluster"
    echo "Codename: cluster"
    echo "Date: $(LC_ALL=C date -Ru)"
    echo "Architectures: all amd64"
    echo "Description: the demo cluster's repository"
    echo "SHA256:"
    for f in Packages Packages.gz; do
        printf ' %s %s %s\n' "$(sha256sum "$REPO/$f" | cut -d' ' -f1)" "$(stat -c %s "$REPO/$f")" "$f"
    done
} > "$REPO/Release"
ls "$REPO"/*.deb | sed 's|.*/|lab: repository: |' >&2
