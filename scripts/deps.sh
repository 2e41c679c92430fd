#!/usr/bin/env bash
# What building, testing and the demo need from Debian, installed when missing (idempotent;
# run as root). CI (.ci/run) and the demo (scripts/demo.sh) call it.
set -euo pipefail
need=()
# The build: a C/C++ compiler (libzmq is built by the zmq crate), Debian's OpenSSL, and
# protoc with the well-known protobuf types (etcd-client's build script).
command -v cc >/dev/null || need+=(gcc)
command -v c++ >/dev/null || need+=(g++)
command -v pkg-config >/dev/null || need+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || need+=(libssl-dev)
command -v protoc >/dev/null || need+=(protobuf-compiler)
[ -e /usr/include/google/protobuf/descriptor.proto ] || need+=(libprotobuf-dev)
# pkg/service/sysctl tests and the lab: dpkg-deb and throwaway APT repositories (dpkg-dev),
# private systemds with their own system bus (systemd, dbus-daemon), namespaces (util-linux,
# iproute2), the lab's repository server (python3).
dpkg -s dpkg-dev >/dev/null 2>&1 || need+=(dpkg-dev)
[ -x /lib/systemd/systemd ] || need+=(systemd)
[ -x /usr/bin/dbus-daemon ] || need+=(dbus-daemon)
command -v unshare >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
command -v python3 >/dev/null || need+=(python3)
# etcdctl (the demo checks the member list with it).
command -v etcdctl >/dev/null || need+=(etcd-client)
if [ "${#need[@]}" -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# cron.* tests: the crontab command (Debian's cron, without its mail recommends).
if ! command -v crontab >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cron
fi
# The etcd state tests run Debian's etcd 3.4 on 127.0.0.1. Its package would start a host
# etcd unless service starts are denied: deny them for the install only when nothing does.
if [ ! -x /usr/bin/etcd ]; then
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends etcd-server
  [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi
