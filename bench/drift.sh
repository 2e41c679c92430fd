#!/usr/bin/env bash
# Drift watch (a Halite extension, minion config `drift_watch: true`) beside real Salt 3008.5's
# best self-healing without beacons/reactors (a `schedule:` highstate), same machine, same run.
#
# Halite: a master and minion m1 on 127.0.0.1 with `drift_watch: true`; `salt m1 state.apply
# drift` applies one file.managed (app.conf, `contents`, mode 0644) and 1000 small file.managed
# (20 dirs x 50 files); the run waits until `drift.status` reports all 1001 watched. Then:
#   * file repair latency, TRIALS times: delete / write foreign content / chmod 600 in
#     rotation, each trial on the next managed file (app.conf, then one file per directory in
#     turn): Halite slows down a state repaired more than 8 times within 60 s (flap damping),
#     so one file over and over would measure that damping (TRIAL_FILES=1). t0 just
#     before the change; a python poller (stat every 1 ms, the content read when the stat says
#     it may be back) until the file has its applied content and mode again. Between trials
#     2 x debounce + 300 ms of quiet, so each change is a lone one;
#   * idle CPU of the minion (psutil user+system of its process tree, reaped children
#     included) over IDLE_SECONDS with nothing changing, as % of one core; its RSS;
#   * service repair latency (needs root and a private systemd: ../shared/recipes/systemd-ns.sh,
#     as halite/tests/drift.rs does): minion m2 runs inside the private systemd's namespaces,
#     `service.running` + `enable` of 40 units (/bin/sleep infinity); SERVICE_TRIALS times
#     `systemctl stop` of the next unit inside, then its ActiveState and MainPID are read over
#     the private system bus (one D-Bus connection, every 5 ms) until it is active with a new
#     MainPID. Without root/namespaces/systemd: "service: skipped (why)".
# Salt 3008.5 (/opt/salt-venv): master + minion with `schedule: {seconds: SALT_SCHEDULE}`
# highstate over the same tree (top.sls -> the same 1001 files); SALT_TRIALS times: wait a
# random offset in [0, SALT_SCHEDULE) after the last repair, delete app.conf, poll (5 ms)
# until it is back; idle CPU and RSS of its minion over the same IDLE_SECONDS, schedule on.
# A repair that never comes (10 s for Halite, SALT_SCHEDULE+60 s for Salt) aborts the run.
# Prints a markdown table and writes it to bench/results/drift-<date>.md (every trial's
# latency to drift-<date>.json beside it). About 13 minutes with the defaults.
# Env: TRIALS (200), SERVICE_TRIALS (200), SALT_TRIALS (5), SALT_SCHEDULE (60), IDLE_SECONDS
# (60), DEBOUNCE_MS (unset: Halite's default, 200), TRIAL_FILES (default TRIALS), SALT_VENV,
# SKIP_SALT=1, NO_BUILD=1 (use target/release as it is), HALITE_BIN (another dir of Halite
# binaries, with NO_BUILD=1), SKIP_HALITE=1 (only to try the Salt half), KEEP=1 (keep the
# work dir: logs, configs), LOG_LEVEL (the daemons', default warning).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(dirname "$HERE")"
SHARED="${HALITE_SHARED:-$REPO/../shared}"
RECIPES="$SHARED/recipes"
TRIALS="${TRIALS:-200}"
SERVICE_TRIALS="${SERVICE_TRIALS:-200}"
SALT_TRIALS="${SALT_TRIALS:-5}"
SALT_SCHEDULE="${SALT_SCHEDULE:-60}"
IDLE_SECONDS="${IDLE_SECONDS:-60}"
DEBOUNCE_MS="${DEBOUNCE_MS:-}"
SALT_VENV="${SALT_VENV:-/opt/salt-venv}"
SKIP_SALT="${SKIP_SALT:-0}"
NO_BUILD="${NO_BUILD:-0}"
SKIP_HALITE="${SKIP_HALITE:-0}"
LOG_LEVEL="${LOG_LEVEL:-warning}"   # the daemons' log_level (logs: the work dir's logs/, shown on failure)
DIRS=20            # the 1000 extra managed files: DIRS x PER_DIR
PER_DIR=50
HALITE_TIMEOUT=10  # seconds a Halite repair may take before the run aborts
# Halite slows down a state repaired more than 8 times within 60 s (flap damping, by design):
# the trials rotate over distinct managed files and units, so that each is repaired a few
# times a minute at most and every trial measures a repair, not the damping (TRIAL_FILES=1,
# app.conf only, runs into the damping and then into the 10 s timeout).
TRIAL_FILES="${TRIAL_FILES:-$TRIALS}"   # capped at the 1001 managed files
NUNITS=40                               # units of the service trials (enabled, running)
SALT_TIMEOUT=$((SALT_SCHEDULE + 60))
# Quiet time between two trials, so that each change is a lone one: the debounce has a leading
# edge (a change to a resource not checked within the last window is checked at once), and the
# notifications of the repair's own writes lead to one more check a window later.
GAP_MS=$(( 2 * ${DEBOUNCE_MS:-200} + 300 ))

[ "$SKIP_SALT" = 1 ] || bash "$SHARED/salt-reference/install.sh" >&2
[ "$NO_BUILD" = 1 ] || [ "$SKIP_HALITE" = 1 ] || (cd "$REPO" && cargo build --release -p halite >&2)
HALITE_BIN="${HALITE_BIN:-$REPO/target/release}"
SALT_BIN="$SALT_VENV/bin"
for b in salt salt-master salt-minion; do
  [ "$SKIP_HALITE" = 1 ] || [ -x "$HALITE_BIN/$b" ] || { echo "drift.sh: $HALITE_BIN/$b missing (build it, or unset NO_BUILD)" >&2; exit 1; }
  [ "$SKIP_SALT" = 1 ] || [ -x "$SALT_BIN/$b" ] || { echo "drift.sh: $SALT_BIN/$b missing (SALT_VENV?)" >&2; exit 1; }
done
# A python with psutil: Salt's venv has it; else the system's.
PY=""
for p in "$SALT_VENV/bin/python" python3; do
  if "$p" -c 'import psutil' 2>/dev/null; then PY="$p"; break; fi
done
[ -n "$PY" ] || { echo "drift.sh: no python with psutil (tried $SALT_VENV/bin/python, python3)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/halite-drift-bench.XXXXXX)"
mkdir -p "$WORK/logs" "$WORK/res"
PIDS=()
SD_UP=""
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ]; then
    echo "drift.sh: FAILED (exit $rc); daemon logs follow" >&2
    for f in "$WORK"/logs/*.log "$WORK"/*/*/var/log/salt/*; do
      [ -s "$f" ] || continue
      echo "----- last 30 lines of $f -----" >&2; tail -n 30 "$f" >&2
    done
  fi
  local p alive
  if [ -n "${TOOL_PID:-}" ]; then kill -TERM "$TOOL_PID" 2>/dev/null || true; fi
  for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
  for _ in $(seq 50); do   # up to 5 s to exit, then SIGKILL what is left of each group
    alive=0
    for p in "${PIDS[@]}"; do kill -0 -- "-$p" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
  if [ -n "$SD_UP" ]; then "$RECIPES/systemd-ns.sh" down "$SD_UP" >/dev/null 2>&1 || true; fi
  if [ "${KEEP:-0}" = 1 ]; then echo "(work dir kept: $WORK)" >&2; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME CMD...: run in its own process group, output to logs/NAME.log, remember the group.
# (Disowned: no job notices when cleanup kills it; bash still reaps it.)
start() {
  local name="$1"; shift
  setsid "$@" >>"$WORK/logs/$name.log" 2>&1 </dev/null &
  LAST_PID="$!"; PIDS+=("$LAST_PID"); disown "$LAST_PID"
}

# stop_group PID: SIGTERM its group, up to 5 s to exit, SIGKILL what is left; forget it.
stop_group() {
  local p="$1" keep=() q
  kill -TERM -- "-$p" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$p" 2>/dev/null || true
  for q in "${PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# The measuring tools (python; run with $PY).
cat > "$WORK/tools.py" <<'PYEOF'
"""Pollers and meters for bench/drift.sh (subcommands below; results as JSON files)."""
import json, math, os, random, socket, stat, statistics, struct, subprocess, sys, time


def die(msg):
    sys.exit(f"drift.sh: {msg}")


# ---------------------------------------------------------------- the tree
def gen_sls(target, dirs, per_dir, out):
    """drift.sls: app.conf first, then dirs x per_dir small files (all mode 0644)."""
    dirs, per_dir = int(dirs), int(per_dir)
    lines = ["app_conf:", "  file.managed:", f"    - name: {target}/app.conf",
             "    - contents: managed by the drift bench", "    - mode: '0644'", "    - makedirs: True"]
    for d in range(dirs):
        for f in range(per_dir):
            lines += [f"f_{d:02d}_{f:02d}:", "  file.managed:",
                      f"    - name: {target}/d{d:02d}/f{f:02d}.conf",
                      f"    - contents: small file {d:02d}/{f:02d}", "    - mode: '0644'",
                      "    - makedirs: True"]
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")


def check_apply(minion, count, path):
    """stdin: `salt ... --out=json --static`; every one of `count` states succeeded."""
    text = sys.stdin.read()
    try:
        ret = json.loads(text)[minion]
    except (ValueError, KeyError, TypeError):
        die(f"state.apply gave no return for {minion}:\n{text[-3000:]}")
    if not isinstance(ret, dict):
        die(f"state.apply on {minion} failed:\n{text[-3000:]}")
    bad = [k for k, v in ret.items() if not (isinstance(v, dict) and v.get("result") is True)]
    if len(ret) != int(count) or bad:
        die(f"state.apply on {minion}: {len(ret)} states (want {count}), failed: {bad[:5]}\n{text[-2000:]}")
    if path == "-":
        return
    st = os.stat(path)
    if stat.S_IMODE(st.st_mode) != 0o644:
        die(f"{path} has mode {stat.S_IMODE(st.st_mode):o} after the apply, not 644")


def watched(minion, key, n):
    """stdin: `salt ... drift.status --out=json --static`; exit 0 when `watched.<key>` >= n."""
    text = sys.stdin.read()
    try:
        got = json.loads(text)[minion]["watched"][key]
    except (ValueError, KeyError, TypeError):
        print(f"drift.status: {text.strip()[-300:]}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0 if got >= int(n) else 1)


# ---------------------------------------------------------------- files
class Applied:
    """The applied content and mode of a file (read once after the apply)."""

    def __init__(self, path):
        self.path = path
        st = os.stat(path)
        self.mode = stat.S_IMODE(st.st_mode)
        with open(path, "rb") as fh:
            self.data = fh.read()
        self.seen = None  # stat identity of the last content read

    def back(self):
        """Is the file a regular file with the applied mode and content? Reads the content
        only when the stat says it may be (stat makes no inotify event; a read may)."""
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != self.mode or st.st_size != len(self.data):
            return False
        ident = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
        if ident == self.seen:
            return self.seen_ok
        try:
            with open(self.path, "rb") as fh:
                ok = fh.read() == self.data
        except FileNotFoundError:
            return False
        self.seen, self.seen_ok = ident, ok
        return ok


def wait_back(a, poll, timeout, what):
    t_end = time.monotonic() + timeout
    while True:
        if a.back():
            return time.perf_counter()
        if time.monotonic() > t_end:
            die(f"{what}: the file was not repaired within {timeout:.0f} s "
                f"(exists: {os.path.exists(a.path)}); aborting, no numbers reported")
        time.sleep(poll)


def change(path, kind):
    if kind == "delete":
        os.unlink(path)
    elif kind == "content":
        with open(path, "w") as fh:
            fh.write("foreign content\n")
    elif kind == "chmod":
        os.chmod(path, 0o600)
    else:
        raise ValueError(kind)


def trial_files(target, dirs, per_dir, n):
    """The files the Halite trials rotate over: app.conf, then the small ones, one per
    directory in turn; the first `n` of them."""
    dirs, per_dir = int(dirs), int(per_dir)
    files = [f"{target}/app.conf"] + [f"{target}/d{j % dirs:02d}/f{j // dirs:02d}.conf"
                                     for j in range(dirs * per_dir)]
    return files[:max(1, min(int(n), len(files)))]


def file_trials(target, dirs, per_dir, nfiles, trials, gap_ms, timeout, out):
    """Halite: delete / foreign content / chmod 600 in rotation, each trial on the next of
    `nfiles` managed files (Halite slows down a state repaired more than 8 times a minute:
    one file over and over would measure that damping, not a repair); latency of each."""
    files = [Applied(f) for f in trial_files(target, dirs, per_dir, nfiles)]
    kinds = ["delete", "content", "chmod"]
    res, gap_ms = [], float(gap_ms)
    time.sleep(gap_ms / 1000)
    for i in range(int(trials)):
        kind, a = kinds[i % 3], files[i % len(files)]
        if not a.back():
            die(f"trial {i + 1}: {a.path} is not as applied before the change")
        t0 = time.perf_counter()
        change(a.path, kind)
        t1 = wait_back(a, 0.001, float(timeout), f"Halite file trial {i + 1}/{trials} ({kind} {a.path})")
        res.append({"kind": kind, "file": a.path, "ms": (t1 - t0) * 1000})
        if (i + 1) % 50 == 0:
            print(f"  file trials: {i + 1}/{trials}", file=sys.stderr)
        time.sleep(gap_ms / 1000)
    json.dump(res, open(out, "w"))


def salt_trials(path, trials, schedule, timeout, out):
    """Salt: after each repair wait a random offset in [0, schedule), delete, wait for it."""
    a = Applied(path)
    res = []
    for i in range(int(trials)):
        off = random.uniform(0, float(schedule))
        print(f"  salt trial {i + 1}/{trials}: deleting in {off:.1f} s", file=sys.stderr)
        time.sleep(off)
        if not a.back():
            die(f"salt trial {i + 1}: {path} is not as applied before the change")
        t0 = time.perf_counter()
        change(path, "delete")
        t1 = wait_back(a, 0.005, float(timeout), f"Salt file trial {i + 1}/{trials}")
        res.append({"kind": "delete", "ms": (t1 - t0) * 1000})
        print(f"  salt trial {i + 1}/{trials}: back after {(t1 - t0):.1f} s", file=sys.stderr)
    json.dump(res, open(out, "w"))


# ---------------------------------------------------------------- D-Bus (no module needed)
def _pad(b, n):
    return b + b"\0" * (-len(b) % n)


def _str(b, s):
    s = s.encode()
    return _pad(b, 4) + struct.pack("<I", len(s)) + s + b"\0"


def _sig(b, s):
    s = s.encode()
    return b + bytes([len(s)]) + s + b"\0"


class Bus:
    """A minimal D-Bus client (EXTERNAL auth, method calls, replies): one connection."""

    def __init__(self, address):
        path = None
        kind, _, params = address.split(";")[0].partition(":")
        for kv in params.split(","):
            k, _, v = kv.partition("=")
            if k == "path":
                path = v
        if kind != "unix" or not path:
            raise OSError(f"unsupported bus address {address}")
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(5)
        self.s.connect(path)
        self.s.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
        line = b""
        while not line.endswith(b"\r\n"):
            c = self.s.recv(1)
            if not c:
                raise OSError("bus closed during auth")
            line += c
        if not line.startswith(b"OK"):
            raise OSError(f"bus auth: {line!r}")
        self.s.sendall(b"BEGIN\r\n")
        self.buf = b""
        self.serial = 0
        self.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello")

    def _recv(self, n):
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise OSError("bus closed")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def call(self, dest, path, iface, member, sig="", body=b""):
        self.serial += 1
        f = b""
        for code, t, v in ((1, "o", path), (2, "s", iface), (3, "s", member), (6, "s", dest)) + (
                ((8, "g", sig),) if sig else ()):
            f = _pad(f, 8) + bytes([code])
            f = _sig(f, t)
            f = _sig(f, v) if t == "g" else _str(f, v)
        head = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), self.serial, len(f)) + f
        self.s.sendall(_pad(head, 8) + body)
        while True:  # skip signals (NameAcquired) until our reply
            fixed = self._recv(16)
            e = "<" if fixed[:1] == b"l" else ">"
            mtype, _, _, blen, _, flen = struct.unpack(e + "BBBIII", fixed[1:16])
            fields = self._recv(flen)
            self._recv(-(16 + flen) % 8)
            rbody = self._recv(blen)
            reply_to, rsig, pos = None, "", 0
            while pos < flen:
                pos += -pos % 8
                code, n = fields[pos], fields[pos + 1]
                t = fields[pos + 2:pos + 2 + n].decode()
                pos += 3 + n
                if t in ("s", "o"):
                    pos += -pos % 4
                    (ln,) = struct.unpack(e + "I", fields[pos:pos + 4])
                    pos += 5 + ln
                elif t == "g":
                    ln = fields[pos]
                    if code == 8:
                        rsig = fields[pos + 1:pos + 1 + ln].decode()
                    pos += 2 + ln
                elif t == "u":
                    pos += -pos % 4
                    (val,) = struct.unpack(e + "I", fields[pos:pos + 4])
                    if code == 5:
                        reply_to = val
                    pos += 4
                else:
                    raise OSError(f"unexpected header field type {t}")
            if reply_to != self.serial:
                continue
            if mtype == 3:
                raise OSError(f"D-Bus error on {member}: {rbody!r}")
            return e, rsig, rbody

    def get(self, path, iface, prop):
        e, _, b = self.call("org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties", "Get",
                            "ss", _str(_str(b"", iface), prop))
        n = b[0]
        t = b[1:1 + n].decode()
        pos = 2 + n
        pos += -pos % 4
        if t == "s":
            (ln,) = struct.unpack(e + "I", b[pos:pos + 4])
            return b[pos + 4:pos + 4 + ln].decode()
        if t == "u":
            return struct.unpack(e + "I", b[pos:pos + 4])[0]
        raise OSError(f"unexpected variant type {t}")


def unit_path(unit):
    return "/org/freedesktop/systemd1/unit/" + "".join(
        c if c.isascii() and c.isalnum() else f"_{ord(c):02x}" for c in unit)


class UnitProbe:
    """(ActiveState, MainPID) of units: over the bus if there is one, else `systemctl show`."""

    def __init__(self, bus_address, systemctl):
        self.systemctl = systemctl
        self.bus = Bus(bus_address) if bus_address else None
        self.how = "D-Bus (private system bus), one connection" if self.bus else "`systemctl show` (no bus)"

    def state(self, unit):
        if self.bus:
            path = unit_path(unit)
            return (self.bus.get(path, "org.freedesktop.systemd1.Unit", "ActiveState"),
                    self.bus.get(path, "org.freedesktop.systemd1.Service", "MainPID"))
        out = subprocess.run([self.systemctl, "show", "-p", "ActiveState,MainPID", unit],
                             capture_output=True, text=True).stdout
        kv = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
        return kv.get("ActiveState", ""), int(kv.get("MainPID", "0") or 0)


def service_trials(bus_address, systemctl, units, trials, gap_ms, timeout, out):
    """`systemctl stop` of the next of `units` (comma-separated; rotated for the same reason
    as the files), then ActiveState and MainPID every 5 ms until it runs again."""
    p, units = UnitProbe(bus_address, systemctl), units.split(",")
    print(f"  service poll: {p.how}", file=sys.stderr)
    res, gap_ms = [], float(gap_ms)
    time.sleep(gap_ms / 1000)
    for i in range(int(trials)):
        unit = units[i % len(units)]
        active, pid = p.state(unit)
        if active != "active" or not pid:
            die(f"service trial {i + 1}: {unit} is {active} (MainPID {pid}) before the stop")
        t0 = time.perf_counter()
        r = subprocess.run([systemctl, "stop", unit], capture_output=True, text=True)
        if r.returncode != 0:
            die(f"systemctl stop {unit}: {r.stderr}")
        t_end = time.monotonic() + float(timeout)
        while True:
            a, new = p.state(unit)
            if a == "active" and new and new != pid:
                t1 = time.perf_counter()
                break
            if time.monotonic() > t_end:
                die(f"Halite service trial {i + 1}/{trials}: {unit} not running again within "
                    f"{timeout} s (ActiveState {a}, MainPID {new}); aborting, no numbers reported")
            time.sleep(0.005)
        res.append({"kind": "stop", "unit": unit, "ms": (t1 - t0) * 1000})
        if (i + 1) % 50 == 0:
            print(f"  service trials: {i + 1}/{trials}", file=sys.stderr)
        time.sleep(gap_ms / 1000)
    json.dump(res, open(out, "w"))


def unit_active(bus_address, systemctl, units):
    p = UnitProbe(bus_address, systemctl)
    for unit in units.split(","):
        a, pid = p.state(unit)
        if a != "active" or not pid:
            die(f"{unit} is {a} (MainPID {pid}) after the apply")


# ---------------------------------------------------------------- CPU and memory
def idle(pid, seconds, out):
    """CPU of the process tree under `pid` over `seconds` (user+system of the live processes
    plus their reaped children's), as % of one core; RSS of the long-lived processes."""
    import psutil
    top = psutil.Process(int(pid))

    def tree():
        try:
            return [top] + top.children(recursive=True)
        except psutil.NoSuchProcess:
            die(f"the minion (pid {pid}) is gone")

    def total(procs):
        s = 0.0
        for p in procs:
            try:
                t = p.cpu_times()
                s += t.user + t.system + t.children_user + t.children_system
            except psutil.NoSuchProcess:
                pass
        return s

    def machine():  # busy jiffies of the whole machine (a cross-check, printed only)
        v = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(v) - v[3] - v[4]

    before = tree()
    c0, w0, m0 = total(before), time.monotonic(), machine()
    time.sleep(float(seconds))
    after = tree()
    c1, w1, m1 = total(after), time.monotonic(), machine()
    rss, n = 0, 0
    for p in after:
        try:
            if p.pid in {q.pid for q in before} and p.name() not in ("nsenter", "sh", "setsid"):
                rss += p.memory_info().rss / 2**20
                n += 1
        except psutil.NoSuchProcess:
            pass
    tick = 1 / os.sysconf("SC_CLK_TCK")
    print(f"  minion tree: {(c1 - c0) / (w1 - w0) * 100:.3f} % of one core, {rss:.1f} MB RSS "
          f"({n} long-lived processes); whole machine meanwhile: "
          f"{(m1 - m0) * tick / (w1 - w0) * 100:.1f} % of one core", file=sys.stderr)
    json.dump({"cpu_pct": max(c1 - c0, 0) / (w1 - w0) * 100, "resolution_pct": tick / (w1 - w0) * 100,
               "rss_mb": rss, "procs": n, "seconds": w1 - w0}, open(out, "w"))


# ---------------------------------------------------------------- the table
def table(resdir, out, params, machine):
    def load(name):
        p = os.path.join(resdir, name)
        return json.load(open(p)) if os.path.exists(p) else None

    def skipped(name):
        p = os.path.join(resdir, name + ".skipped")
        return open(p).read().strip() if os.path.exists(p) else None

    def p99(v):  # nearest rank
        v = sorted(v)
        return v[max(0, math.ceil(0.99 * len(v)) - 1)]

    def ms(v):
        return f"{v / 1000:.1f} s" if v >= 10000 else f"{v:.0f} ms" if v >= 100 else f"{v:.1f} ms"

    def cpu(v):
        return f"{v:.3f} %" if v < 1 else f"{v:.1f} %"

    def ratio(h, s, floor=False):
        if h is None or s is None or h <= 0:
            return "—"
        r = s / h
        return ("> " if floor else "") + (f"{r:.0f}x" if r >= 10 else f"{r:.1f}x")

    hf, hs, hi = load("halite_file.json"), load("halite_service.json"), load("halite_idle.json")
    sf, si = load("salt_file.json"), load("salt_idle.json")
    h_na = f"skipped ({skipped('halite')})" if skipped("halite") else "—"
    s_na = f"skipped ({skipped('salt')})" if skipped("salt") else "—"
    hv = [x["ms"] for x in hf] if hf else None
    sv = [x["ms"] for x in sf] if sf else None
    rows = []

    def row(name, h, s, fmt, floor=False):
        """h, s: numbers or None (then the skip text); fmt formats a number."""
        rows.append(f"| {name} | {h_na if h is None else fmt(h)} | {s_na if s is None else fmt(s)} "
                    f"| {ratio(h, s, floor)} |")

    row(f"file repair, median (Halite {len(hv or [])} trials, Salt {len(sv or [])})",
        hv and statistics.median(hv), sv and statistics.median(sv), ms)
    row("file repair, p99 (Salt: max)", hv and p99(hv), sv and max(sv), ms)
    svc_skip = skipped("service")
    salt_svc = s_na if skipped("salt") else "not measured (same schedule)"
    if hs:
        v = [x["ms"] for x in hs]
        rows.append(f"| service repair, median ({len(v)} trials) | {ms(statistics.median(v))} | {salt_svc} | — |")
        rows.append(f"| service repair, p99 | {ms(p99(v))} | {salt_svc} | — |")
    else:
        why = f"skipped ({svc_skip})" if svc_skip else h_na
        rows.append(f"| service repair, median | {why} | {salt_svc} | — |")
        rows.append(f"| service repair, p99 | {why} | {salt_svc} | — |")
    cpu_name = f"minion idle CPU, {params['files']} watched/managed files, {params['idle']} s (% of one core)"
    if hi and hi["cpu_pct"] == 0:
        # No clock tick in the window: below the resolution; the ratio is a floor.
        res = hi["resolution_pct"]
        rows.append(f"| {cpu_name} | < {res:.3f} % | {cpu(si['cpu_pct']) if si else s_na} "
                    f"| {ratio(res, si and si['cpu_pct'], True)} |")
    else:
        row(cpu_name, hi and hi["cpu_pct"], si and si["cpu_pct"], cpu)
    row("minion RSS (end of the idle window)", hi and hi["rss_mb"], si and si["rss_mb"],
        lambda v: f"{v:.1f} MB" if v < 100 else f"{v:.0f} MB")

    lines = [
        f"Drift repair: Halite's drift watch (`drift_watch: true`, debounce {params['debounce']}) beside "
        f"Salt 3008.5 with a `schedule:` highstate every {params['schedule']} s (its self-healing without "
        f"beacons/reactors), on 127.0.0.1. {machine}",
        "",
        f"| measure | Halite | Salt 3008.5 (schedule every {params['schedule']} s) | Salt/Halite |",
        "|---|---|---|---|",
        *rows,
        "",
        f"Parameters: TRIALS={params['trials']} (delete / foreign content / chmod 600 in rotation, "
        f"over {params['trial_files']} distinct managed files, {params['gap']} ms between trials, file polled "
        f"every 1 ms), SERVICE_TRIALS={params['service_trials']} (`systemctl stop` through nsenter into a "
        f"private systemd, over {params['units']} units, t0 just before that call; ActiveState+MainPID "
        f"polled every 5 ms{params['svc_how']}), "
        f"SALT_TRIALS={params['salt_trials']} (delete at a random offset within the schedule period, polled "
        f"every 5 ms), SALT_SCHEDULE={params['schedule']}, IDLE_SECONDS={params['idle']}. Both minions manage "
        f"the same {params['files']} files (app.conf + {params['extra']}); latency = from just before the "
        f"change until the file (unit) is as applied again. Idle CPU: user+system of the minion's process "
        f"tree, reaped children included; RSS of its long-lived processes. Halite's trials rotate over "
        f"files and units because it slows down a state repaired more than 8 times within 60 s (flap "
        f"damping).",
    ]
    if hf:
        parts = []
        for k in ("delete", "content", "chmod"):
            v = [x["ms"] for x in hf if x["kind"] == k]
            if v:
                parts.append(f"{k} {ms(statistics.median(v))}")
        lines += ["", "Halite file repair medians by change: " + ", ".join(parts) + "."]
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)
    raw = {k: v for k, v in (("halite_file", hf), ("halite_service", hs), ("halite_idle", hi),
                              ("salt_file", sf), ("salt_idle", si)) if v}
    json.dump(dict(raw, params=params), open(os.path.splitext(out)[0] + ".json", "w"), indent=1)
    sys.stdout.write(text)


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "table":
        table(args[0], args[1], json.loads(args[2]), args[3])
    else:
        {"gen-sls": gen_sls, "check-apply": check_apply, "file-trials": file_trials,
         "salt-trials": salt_trials, "service-trials": service_trials, "unit-active": unit_active,
         "watched": watched,
         "idle": idle}[cmd](*args)
PYEOF
tool() { "$PY" "$WORK/tools.py" "$@"; }
# run_tool ARGS...: a long measurement, in the background so that a signal ends the run at once
# (bash runs traps only between foreground commands, but during `wait`).
TOOL_PID=""
run_tool() { "$PY" "$WORK/tools.py" "$@" </dev/null & TOOL_PID=$!; wait "$TOOL_PID"; TOOL_PID=""; }

# master_config DIR PUB RET: a master on 127.0.0.1 serving DIR/srv.
master_config() {
  mkdir -p "$1/master" "$1/srv/salt" "$1/srv/pillar"
  cat > "$1/master/master" <<CFG
root_dir: $1/master
interface: 127.0.0.1
publish_port: $2
ret_port: $3
auto_accept: True
user: $(id -un)
file_roots: {base: [$1/srv/salt]}
pillar_roots: {base: [$1/srv/pillar]}
log_level: $LOG_LEVEL
CFG
}

# minion_config DIR ID PUB RET EXTRA: the minion's config dir DIR/ID.
minion_config() {
  mkdir -p "$1/$2"
  cat > "$1/$2/minion" <<CFG
root_dir: $1/$2
id: $2
master: 127.0.0.1
master_port: $4
publish_port: $3
user: $(id -un)
acceptance_wait_time: 1
log_level: $LOG_LEVEL
$5
CFG
}

# wait_ping BIN MASTER_DIR ID: until ID answers test.ping (at most 3 minutes).
wait_ping() {
  local t0; t0=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt 180 ]; do
    if "$1/salt" -c "$2" "$3" test.ping --out=json --static -t 5 2>/dev/null | grep -q true; then return 0; fi
    sleep 0.3
  done
  echo "drift.sh: $3 did not answer test.ping within 180 s ($1)" >&2; exit 1
}

# wait_watched ID KIND N: until Halite's `drift.status` on ID reports N watched KIND (30 s).
wait_watched() {
  local t0; t0=$(date +%s)
  while [ $(( $(date +%s) - t0 )) -lt 30 ]; do
    if "$HALITE_BIN/salt" -c "$H/master" "$1" drift.status --out=json --static -t 10 2>/dev/null \
        | tool watched "$1" "$2" "$3" 2>"$WORK/logs/drift-status.last"; then return 0; fi
    sleep 0.2
  done
  echo "drift.sh: $1's drift.status never reported $3 watched $2 within 30 s (a minion built" \
       "without drift watch?); last answer: $(cat "$WORK/logs/drift-status.last")" >&2
  exit 1
}

NFILES=$((DIRS * PER_DIR + 1))
SVC_HOW=""

# ===================================================================== Halite
if [ "$SKIP_HALITE" = 1 ]; then
  echo "SKIP_HALITE=1" > "$WORK/res/halite.skipped"
else
  H="$WORK/halite"
  HPUB="$(free_port)"; HRET="$(free_port)"
  master_config "$H" "$HPUB" "$HRET"
  tool gen-sls "$H/target" "$DIRS" "$PER_DIR" "$H/srv/salt/drift.sls"
  DRIFT_CFG="drift_watch: true"
  [ -z "$DEBOUNCE_MS" ] || DRIFT_CFG+=$'\n'"drift_debounce_ms: $DEBOUNCE_MS"
  minion_config "$H" m1 "$HPUB" "$HRET" "$DRIFT_CFG"
  echo "halite: master + m1 (drift_watch), applying $NFILES file.managed" >&2
  start halite-master "$HALITE_BIN/salt-master" -c "$H/master"; H_MASTER="$LAST_PID"
  start halite-m1 "$HALITE_BIN/salt-minion" -c "$H/m1"; H_M1="$LAST_PID"
  wait_ping "$HALITE_BIN" "$H/master" m1
  "$HALITE_BIN/salt" -c "$H/master" m1 state.apply drift --out=json --static -t 300 \
    | tool check-apply m1 "$NFILES" "$H/target/app.conf"
  wait_watched m1 files "$NFILES"
  echo "halite: $TRIALS file trials" >&2
  run_tool file-trials "$H/target" "$DIRS" "$PER_DIR" "$TRIAL_FILES" "$TRIALS" "$GAP_MS" "$HALITE_TIMEOUT" \
    "$WORK/res/halite_file.json"
  sleep 2
  echo "halite: idle CPU over ${IDLE_SECONDS}s" >&2
  run_tool idle "$H_M1" "$IDLE_SECONDS" "$WORK/res/halite_idle.json"
  stop_group "$H_M1"

  # Services: minion m2 inside a private systemd (PID 1 of its own namespaces).
  svc_skip() { echo "service: skipped ($1)" >&2; echo "$1" > "$WORK/res/service.skipped"; }
  if [ "$SERVICE_TRIALS" = 0 ]; then
    svc_skip "SERVICE_TRIALS=0"
  elif [ "$(id -u)" != 0 ]; then
    svc_skip "not root: a private systemd needs namespaces"
  elif ! command -v unshare >/dev/null || ! command -v nsenter >/dev/null; then
    svc_skip "no unshare/nsenter"
  elif [ ! -x "$RECIPES/systemd-ns.sh" ]; then
    svc_skip "no $RECIPES/systemd-ns.sh"
  elif SD_UP="$WORK/sd" && ! SD_RW_PATHS="$WORK" "$RECIPES/systemd-ns.sh" up "$WORK/sd" > "$WORK/sd.env" 2> "$WORK/logs/systemd-ns-up.log"; then
    "$RECIPES/systemd-ns.sh" down "$WORK/sd" >/dev/null 2>&1 || true
    SD_UP=""
    svc_skip "a private systemd cannot start here: $(tail -n 1 "$WORK/logs/systemd-ns-up.log")"
  else
    SD_SYSTEM_BUS=""
    set -a; . "$WORK/sd.env"; set +a
    UNITS=""
    : > "$H/srv/salt/svc.sls"
    for i in $(seq -f '%02g' 0 $((NUNITS - 1))); do
      printf '[Unit]\nDescription=drift bench %s\n[Service]\nExecStart=/bin/sleep infinity\n[Install]\nWantedBy=multi-user.target\n' \
        "$i" > "$SD_VENDOR_UNIT_DIR/drift-app-$i.service"
      printf 'app_%s:\n  service.running:\n    - name: drift-app-%s\n    - enable: True\n' "$i" "$i" >> "$H/srv/salt/svc.sls"
      UNITS="${UNITS:+$UNITS,}drift-app-$i.service"
    done
    "$SD_BIN/systemctl" daemon-reload
    minion_config "$H" m2 "$HPUB" "$HRET" "$DRIFT_CFG"
    # The private systemd has its own /tmp, /run, /var/tmp: a binary under one of them is
    # linked into the work dir, which is visible inside.
    MINION="$HALITE_BIN/salt-minion"
    case "$MINION" in /tmp/*|/run/*|/var/tmp/*)
      mkdir -p "$WORK/bin"; ln "$MINION" "$WORK/bin/salt-minion" 2>/dev/null || cp "$MINION" "$WORK/bin/salt-minion"
      MINION="$WORK/bin/salt-minion" ;;
    esac
    echo "halite: m2 inside the private systemd (host pid $SD_PID)" >&2
    start halite-m2 "$RECIPES/systemd-ns.sh" exec "$WORK/sd" -- "$MINION" -c "$H/m2"; H_M2="$LAST_PID"
    wait_ping "$HALITE_BIN" "$H/master" m2
    "$HALITE_BIN/salt" -c "$H/master" m2 state.apply svc --out=json --static -t 120 | tool check-apply m2 "$NUNITS" -
    tool unit-active "$SD_SYSTEM_BUS" "$SD_BIN/systemctl" "$UNITS"
    wait_watched m2 services "$NUNITS"
    [ -n "$SD_SYSTEM_BUS" ] && SVC_HOW=", over the private system bus" || SVC_HOW=", with systemctl show"
    echo "halite: $SERVICE_TRIALS service trials" >&2
    run_tool service-trials "$SD_SYSTEM_BUS" "$SD_BIN/systemctl" "$UNITS" "$SERVICE_TRIALS" "$GAP_MS" \
      "$HALITE_TIMEOUT" "$WORK/res/halite_service.json"
    stop_group "$H_M2"
    "$RECIPES/systemd-ns.sh" down "$WORK/sd" >/dev/null 2>&1 || true
    SD_UP=""
  fi
  stop_group "$H_MASTER"
fi

# ===================================================================== Salt
if [ "$SKIP_SALT" = 1 ]; then
  echo "SKIP_SALT=1" > "$WORK/res/salt.skipped"
else
  S="$WORK/salt"
  SPUB="$(free_port)"; SRET="$(free_port)"
  master_config "$S" "$SPUB" "$SRET"
  tool gen-sls "$S/target" "$DIRS" "$PER_DIR" "$S/srv/salt/drift.sls"
  printf "base:\n  '*':\n    - drift\n" > "$S/srv/salt/top.sls"
  minion_config "$S" m1 "$SPUB" "$SRET" "schedule:
  drift_highstate:
    function: state.highstate
    seconds: $SALT_SCHEDULE"
  echo "salt: master + m1 (schedule: highstate every ${SALT_SCHEDULE}s)" >&2
  start salt-master "$SALT_BIN/salt-master" -c "$S/master"
  start salt-m1 "$SALT_BIN/salt-minion" -c "$S/m1"; S_M1="$LAST_PID"
  wait_ping "$SALT_BIN" "$S/master" m1
  "$SALT_BIN/salt" -c "$S/master" m1 state.apply queue=True --out=json --static -t 600 \
    | tool check-apply m1 "$NFILES" "$S/target/app.conf"
  echo "salt: $SALT_TRIALS file trials (up to ${SALT_TIMEOUT}s each)" >&2
  run_tool salt-trials "$S/target/app.conf" "$SALT_TRIALS" "$SALT_SCHEDULE" "$SALT_TIMEOUT" "$WORK/res/salt_file.json"
  echo "salt: idle CPU over ${IDLE_SECONDS}s (schedule on)" >&2
  run_tool idle "$S_M1" "$IDLE_SECONDS" "$WORK/res/salt_idle.json"
fi

# ===================================================================== report
DEBOUNCE_TXT="200 ms (default)"; [ -z "$DEBOUNCE_MS" ] || DEBOUNCE_TXT="$DEBOUNCE_MS ms"
mkdir -p "$HERE/results"
OUT="$HERE/results/drift-$(date -u +%Y%m%d-%H%M%S).md"
PARAMS="$("$PY" -c 'import json,sys; a=sys.argv[1:]; print(json.dumps(dict(trials=a[0], service_trials=a[1], salt_trials=a[2], schedule=a[3], idle=a[4], debounce=a[5], gap=a[6], files=a[7], extra=a[8], svc_how=a[9], trial_files=a[10], units=a[11])))' \
  "$TRIALS" "$SERVICE_TRIALS" "$SALT_TRIALS" "$SALT_SCHEDULE" "$IDLE_SECONDS" \
  "$DEBOUNCE_TXT" "$GAP_MS" "$NFILES" "$DIRS dirs x $PER_DIR files" "$SVC_HOW" \
  "$(( TRIAL_FILES < NFILES ? (TRIAL_FILES < 1 ? 1 : TRIAL_FILES) : NFILES ))" "$NUNITS")"
tool table "$WORK/res" "$OUT" "$PARAMS" "Machine: $(nproc) cores, Linux $(uname -r), $(date -u +%Y-%m-%d)."
echo "(written to $OUT)" >&2
