//! Halite's CLI output, byte for byte, against what real Salt 3008.5 printed in the same
//! setup: `../shared/salt-reference/samples/master_minion_m1/*.txt`, captured by
//! `../shared/salt-reference/master_minion.sh 1`.
//!
//! The setup is that script's, rebuilt with Halite's daemons: one master with the nodegroups
//! `workers` / `first_two`, one minion `minion-00` with the grains `roles: [kube-master]`,
//! `idx: 0`, the pillar tree (`cp.sls` for `minion-00`, `worker.sls` for the others) and the
//! 100-state tree of `gen_tree.sh` (ten `perfN.sls`, each state a `file.managed` of
//! `/WORK/target/{{ grains['id'] }}/fNNNN.txt`). Keys are accepted with `salt-key -A -y`
//! (the script uses `auto_accept: True`; the outputs do not differ).
//!
//! Like the script, a first `state.apply` creates the files, then every sampled command runs
//! once, in the script's order, its stdout and stderr captured together (the script's
//! `2>&1`). Both sides are normalised the same way before comparing, line by line:
//!
//! * the temp dir → `/WORK`; every 20-digit jid → `JID`;
//! * `Started: HH:MM:SS.ffffff`, `Duration: N ms`, `"start_time": "…"`, `"duration": N`
//!   → fixed tokens;
//! * `Total run time:` keeps its right edge (Salt right-aligns the value to the summary
//!   width) but the number and the unit (`ms`, or `s` past 999 ms) become fixed tokens;
//! * Python's `unclosed Runner … destroy()` warnings that Salt's `salt-run` prints are dropped.
//!
//! `jobs_list` (`salt-run jobs.list_jobs --out=json`, of which the sample holds the first 40
//! lines) is compared by structure: every job a 20-digit jid mapping to the sample's keys in
//! the sample's order, with the sample's value types and `StartTime` format, and every job
//! fully shown in the sample present with the same `Function`, `Arguments`, `Target`,
//! `Target-type`.
//!
//! The script does not record exit codes (it runs everything under `|| true`); the expected
//! ones here are what real Salt 3008.5 returned when this very test was run against it
//! (`HALITE_FLEET_BIN_DIR=/opt/salt-venv/bin cargo test -p halite --test cli_samples`,
//! which this test supports: only the outputs are compared, never the binaries).
//!
//! `cli_output_matches_salt_samples_ten_minions` does the same with ten minions
//! (`minion-00` the kube-master, `minion-01`..`minion-09` kube-workers) against
//! `master_minion_m10/`, captured by `master_minion.sh 10`. Minions return in any order (in
//! real Salt too), so the outputs made of per-minion parts are compared after both sides are
//! normalised and their parts sorted by minion id ([`by_minion`]); `--static` JSON by its
//! parsed object; `salt-key -L` and `manage.status` (sorted by Salt) exactly. Its expected
//! exit codes were checked the same way against real Salt 3008.5 (all 22 cases pass there).
//!
//! Every case runs even when an earlier one fails; the test fails at the end listing every
//! mismatch as a diff (`-` expected from Salt, `+` actual), and the temp dir is kept (its
//! `cli_samples/` holds each case's raw and normalised output).

#[path = "common/fleet.rs"]
mod harness;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use harness::Fleet;
use serde_json::Value;

const MINION: &str = "minion-00";
/// Waiting for the minion to show up, get accepted and answer.
const STARTUP: Duration = Duration::from_secs(90);
/// Lines of diff shown per failing case.
const DIFF_SHOWN: usize = 120;

/// The samples of `master_minion.sh 1` and of `master_minion.sh 10`.
const M1: &str = "master_minion_m1";
const M10: &str = "master_minion_m10";

/// The captured samples `set` in `../shared` (`HALITE_SHARED` overrides its location).
fn samples_dir(set: &str) -> PathBuf {
    let shared = std::env::var_os("HALITE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    shared.join("salt-reference/samples").join(set)
}

/// The sample file `set/name.txt`, whole.
fn sample(set: &str, name: &str) -> String {
    let p = samples_dir(set).join(format!("{name}.txt"));
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// The sample `set/name.txt` without its `$ command` line.
fn sample_output(set: &str, name: &str) -> String {
    let text = sample(set, name);
    match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("$ ") => rest.to_string(),
        _ => panic!("sample {name}.txt does not start with a `$ command` line"),
    }
}

// ----- the setup of master_minion.sh -------------------------------------------------------

/// `gen_tree.sh 100 srv/salt "$WORK/target/{{ grains['id'] }}" 10`.
fn write_state_tree(fleet: &Fleet) {
    const N: usize = 100;
    const NSLS: usize = 10;
    let target = format!("{}/{{{{ grains['id'] }}}}", fleet.path("target").display());
    let mut top = String::from("base:\n  '*':\n");
    for s in 0..NSLS {
        let _ = writeln!(top, "    - perf{s}");
    }
    fleet.write("srv/salt/top.sls", &top);
    let mut sls = vec![String::new(); NSLS];
    for i in 0..N {
        let _ = write!(
            sls[i % NSLS],
            "perf_file_{i:04}:\n  file.managed:\n    - name: {target}/f{i:04}.txt\n    - makedirs: True\n    - contents: \"state {i} of {N}\"\n"
        );
    }
    for (s, text) in sls.iter().enumerate() {
        fleet.write(&format!("srv/salt/perf{s}.sls"), text);
    }
}

fn write_pillar_tree(fleet: &Fleet) {
    fleet.write(
        "srv/pillar/top.sls",
        "base:\n  'minion-00':\n    - cp\n  'not minion-00':\n    - match: compound\n    - worker\n",
    );
    fleet.write(
        "srv/pillar/cp.sls",
        "role: control-plane\nkube:\n  taints: [\"node-role.kubernetes.io/control-plane:NoSchedule\"]\n",
    );
    fleet.write(
        "srv/pillar/worker.sls",
        "role: worker\nkube:\n  taints: []\n",
    );
}

/// `salt-key -L --out=json`: does `field` list every one of `ids`?
fn key_listed(fleet: &Fleet, field: &str, ids: &[String]) -> Result<(), String> {
    let out = fleet.salt_key(&["-L", "--out=json"]);
    let json = out.json_object().map_err(|e| format!("{e}\n{out}"))?;
    let listed = |id: &str| {
        json.get(field)
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|v| v.as_str() == Some(id)))
    };
    match ids.iter().find(|id| !listed(id)) {
        None => Ok(()),
        Some(id) => Err(format!("{id} not in {field}\n{out}")),
    }
}

/// `minion-00` … `minion-{m-1}`, as `master_minion.sh m` names them.
fn minion_ids(m: usize) -> Vec<String> {
    (0..m).map(|i| format!("minion-{i:02}")).collect()
}

/// The setup of `master_minion.sh m`: the master, `m` minions (`minion-00` the
/// kube-master, the others kube-workers), keys accepted, every minion answering, and the
/// first `state.apply` done.
fn start_fleet(m: usize) -> Fleet {
    let ids = minion_ids(m);
    let mut fleet = Fleet::new(
        "log_level_logfile: warning\n\
         nodegroups:\n  workers: 'G@roles:kube-worker'\n  first_two: 'L@minion-00,minion-01'\n",
    );
    write_state_tree(&fleet);
    write_pillar_tree(&fleet);
    for (i, id) in ids.iter().enumerate() {
        let role = if i == 0 { "kube-master" } else { "kube-worker" };
        fleet.add_minion(
            id,
            &format!("log_level_logfile: warning\ngrains:\n  roles: [{role}]\n  idx: {i}\n"),
        );
    }
    let who = if m == 1 {
        MINION.to_string()
    } else {
        format!("{m} minions")
    };
    fleet.step(&format!("starting master and {who}"));
    fleet.start_master();
    for id in &ids {
        fleet.start_minion(id);
    }
    let whose = if m == 1 {
        format!("{MINION}'s key")
    } else {
        "every minion's key".to_string()
    };
    fleet.wait_for(&format!("{whose} pending"), STARTUP, |f| {
        key_listed(f, "minions_pre", &ids)
    });
    let out = fleet.salt_key(&["-A", "-y"]);
    fleet.check(out.status.success(), || {
        format!("salt-key -A -y failed\n{out}")
    });
    fleet.wait_for(&format!("{who} answering test.ping"), STARTUP, |f| {
        let out = f.salt(&["*", "test.ping", "--out=json", "--static", "-t", "5"]);
        match out.json_object() {
            Ok(m) if ids.iter().all(|id| m.get(id) == Some(&Value::Bool(true))) => Ok(()),
            _ => Err(out.to_string()),
        }
    });
    // The script's first apply, which creates the files (the samples are of no-op runs).
    let out = fleet.salt(&["*", "state.apply", "--out=json"]);
    fleet.check(out.status.success(), || {
        format!("the first state.apply failed\n{out}")
    });
    fleet
}

// ----- normalisation -----------------------------------------------------------------------

/// Replaces every run of exactly 20 ASCII digits with `JID`.
fn mask_jids(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut digits = String::new();
    let flush = |digits: &mut String, out: &mut String| {
        if digits.len() == 20 {
            out.push_str("JID");
        } else {
            out.push_str(digits);
        }
        digits.clear();
    };
    for c in line.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else {
            flush(&mut digits, &mut out);
            out.push(c);
        }
    }
    flush(&mut digits, &mut out);
    out
}

/// After every `marker`, the longest run of chars satisfying `keep` becomes `token`
/// (left alone when that run is empty).
fn mask_after(line: &str, marker: &str, keep: impl Fn(char) -> bool, token: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find(marker) {
        let end = pos + marker.len();
        out.push_str(&rest[..end]);
        rest = &rest[end..];
        let n = rest.find(|c: char| !keep(c)).unwrap_or(rest.len());
        if n > 0 {
            out.push_str(token);
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

/// `Total run time:<spaces><number> <unit>` → the same width, right edge kept, fixed tokens.
fn mask_total_run_time(line: &str) -> String {
    const LABEL: &str = "Total run time:";
    let Some(pos) = line.find(LABEL) else {
        return line.to_string();
    };
    let head = &line[..pos + LABEL.len()];
    let rest = &line[pos + LABEL.len()..];
    let value = rest.trim_start();
    let pad = rest.len() - value.len();
    let n = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(value.len());
    let unit = value[n..].trim();
    if n == 0 || !(unit == "ms" || unit == "s") || !value[n..].starts_with(' ') {
        return line.to_string();
    }
    format!("{head}{}N <unit>", " ".repeat((pad + n).saturating_sub(1)))
}

/// `s` with every run of ASCII digits replaced by one `D`.
fn digit_shape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('D') {
            out.push('D');
        }
    }
    out
}

/// Python's warnings about objects never closed, which Salt's `salt-run` prints at exit.
fn is_python_warning(line: &str) -> bool {
    line.contains("unclosed ") && line.contains("call ``destroy()`` or use as a context manager")
}

fn is_number_char(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '-' | '+')
}

fn normalize(text: &str, root: &Path) -> Vec<String> {
    let text = text.replace(&root.display().to_string(), "/WORK");
    text.split('\n')
        .filter(|l| !is_python_warning(l))
        .map(|l| {
            let l = mask_jids(l);
            let l = mask_after(
                &l,
                "Started: ",
                |c| c.is_ascii_digit() || c == ':' || c == '.',
                "HH:MM:SS.ffffff",
            );
            let l = mask_after(&l, "Duration: ", |c| c.is_ascii_digit() || c == '.', "N");
            let l = mask_after(&l, "\"start_time\": \"", |c| c != '"', "HH:MM:SS.ffffff");
            let l = mask_after(&l, "\"duration\": ", is_number_char, "N");
            mask_total_run_time(&l)
        })
        .collect()
}

// ----- diff ----------------------------------------------------------------------------

/// A unified-style diff of two line lists (`-` expected, `+` actual, two lines of context),
/// at most [`DIFF_SHOWN`] lines.
fn diff(expected: &[String], actual: &[String]) -> String {
    let (n, m) = (expected.len(), actual.len());
    // lcs[i][j]: length of the LCS of expected[i..] and actual[j..].
    let w = m + 1;
    let mut lcs = vec![0u32; (n + 1) * w];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i * w + j] = if expected[i] == actual[j] {
                lcs[(i + 1) * w + j + 1] + 1
            } else {
                lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
            };
        }
    }
    // (tag, expected line no, actual line no, text)
    let mut ops: Vec<(char, usize, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            ops.push((' ', i, j, &expected[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i * w + j + 1] >= lcs[(i + 1) * w + j]) {
            ops.push(('+', i, j, &actual[j]));
            j += 1;
        } else {
            ops.push(('-', i, j, &expected[i]));
            i += 1;
        }
    }
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = Vec::new();
    let mut k = 0;
    while k < changed.len() {
        let start = changed[k].saturating_sub(CONTEXT);
        let mut end = changed[k];
        while k + 1 < changed.len() && changed[k + 1] <= end + 2 * CONTEXT + 1 {
            k += 1;
            end = changed[k];
        }
        let end = (end + CONTEXT + 1).min(ops.len());
        let (_, e0, a0, _) = ops[start];
        out.push(format!(
            "@@ expected line {} / actual line {} @@",
            e0 + 1,
            a0 + 1
        ));
        for (tag, _, _, text) in &ops[start..end] {
            out.push(format!("{tag} {text}"));
        }
        k += 1;
    }
    let total = out.len();
    if total > DIFF_SHOWN {
        out.truncate(DIFF_SHOWN);
        out.push(format!("... ({} more diff lines)", total - DIFF_SHOWN));
    }
    out.join("\n")
}

// ----- the cases ---------------------------------------------------------------------

struct Checker<'a> {
    fleet: &'a Fleet,
    /// The sample set compared with ([`M1`] or [`M10`]).
    samples: &'static str,
    dir: PathBuf,
    passed: Vec<String>,
    failed: Vec<(String, String)>,
}

impl<'a> Checker<'a> {
    fn new(fleet: &'a Fleet, samples: &'static str) -> Self {
        let dir = fleet.path("cli_samples");
        fs::create_dir_all(&dir).expect("mkdir cli_samples");
        Checker {
            fleet,
            samples,
            dir,
            passed: Vec::new(),
            failed: Vec::new(),
        }
    }

    /// Runs `program args` with stdout and stderr together; (output, exit code).
    fn capture(&self, program: &str, args: &[&str]) -> (String, Option<i32>) {
        let out = self.fleet.run_merged(program, args);
        (out.stdout, out.status.code())
    }

    fn record(&mut self, name: &str, problems: Vec<String>) {
        if problems.is_empty() {
            self.fleet.step(&format!("  {name}: ok"));
            self.passed.push(name.to_string());
        } else {
            self.fleet.step(&format!("  {name}: MISMATCH"));
            self.failed.push((name.to_string(), problems.join("\n")));
        }
    }

    /// Compares `actual` with `expected` after normalising both, and the exit code.
    fn compare_text(
        &mut self,
        name: &str,
        expected: &str,
        actual: &str,
        rc: Option<i32>,
        expected_rc: i32,
    ) {
        let root = self.fleet.root.clone();
        let exp = normalize(expected, &root);
        let act = normalize(actual, &root);
        self.compare_lines(name, exp, act, actual, rc, expected_rc);
    }

    /// Compares already normalised lines and the exit code; `raw` is the actual output as
    /// printed, kept beside them.
    fn compare_lines(
        &mut self,
        name: &str,
        exp: Vec<String>,
        act: Vec<String>,
        raw: &str,
        rc: Option<i32>,
        expected_rc: i32,
    ) {
        let _ = fs::write(self.dir.join(format!("{name}.raw")), raw);
        let _ = fs::write(self.dir.join(format!("{name}.actual")), act.join("\n"));
        let _ = fs::write(self.dir.join(format!("{name}.expected")), exp.join("\n"));
        let mut problems = Vec::new();
        if rc != Some(expected_rc) {
            problems.push(format!("exit code {rc:?}, Salt's is {expected_rc}"));
        }
        if exp != act {
            problems.push(format!(
                "output differs (- Salt, + Halite, after normalising):\n{}",
                diff(&exp, &act)
            ));
        }
        self.record(name, problems);
    }

    /// `salt ARGS` against the sample `name`.
    fn salt_case(&mut self, name: &str, args: &[&str], expected_rc: i32) {
        let (out, rc) = self.capture("salt", args);
        self.compare_text(
            name,
            &sample_output(self.samples, name),
            &out,
            rc,
            expected_rc,
        );
    }

    /// `salt ARGS` against the sample `name`, both sides normalised and then put in minion
    /// order (see [`by_minion`]), since minions return in any order.
    fn salt_case_by_minion(&mut self, name: &str, args: &[&str], layout: Layout, expected_rc: i32) {
        let (out, rc) = self.capture("salt", args);
        let root = self.fleet.root.clone();
        let exp = by_minion(normalize(&sample_output(self.samples, name), &root), layout);
        let act = by_minion(normalize(&out, &root), layout);
        self.compare_lines(name, exp, act, &out, rc, expected_rc);
    }

    /// `salt ARGS` printing one JSON object (`--out=json --static`) against the sample
    /// `name`: the parsed objects must hold the same keys (in any order) with exactly the
    /// same values, and the lines, in any order and without their trailing commas, must be
    /// Salt's (4-space indent, `"key": value` layout).
    fn salt_case_static_json(&mut self, name: &str, args: &[&str], expected_rc: i32) {
        let (out, rc) = self.capture("salt", args);
        let root = self.fleet.root.clone();
        let expected = sample_output(self.samples, name);
        let sorted_lines = |text: &str| {
            let mut lines: Vec<String> = normalize(text, &root)
                .into_iter()
                .map(|l| l.strip_suffix(',').map(str::to_string).unwrap_or(l))
                .collect();
            lines.sort();
            lines
        };
        let (exp, act) = (sorted_lines(&expected), sorted_lines(&out));
        let _ = fs::write(self.dir.join(format!("{name}.raw")), &out);
        let _ = fs::write(self.dir.join(format!("{name}.actual")), act.join("\n"));
        let _ = fs::write(self.dir.join(format!("{name}.expected")), exp.join("\n"));
        let mut problems = Vec::new();
        if rc != Some(expected_rc) {
            problems.push(format!("exit code {rc:?}, Salt's is {expected_rc}"));
        }
        let as_map = |text: &str| -> Result<BTreeMap<String, Value>, String> {
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => Ok(m.into_iter().collect()),
                Ok(other) => Err(format!("JSON but not an object: {other}")),
                Err(e) => Err(format!("not one JSON document ({e})")),
            }
        };
        let want = as_map(&expected).expect("the --static sample is one JSON object");
        match as_map(&out) {
            Err(e) => problems.push(format!("output is {e}:\n{out}")),
            Ok(got) => {
                for (k, v) in &want {
                    match got.get(k) {
                        None => problems.push(format!("key {k:?} missing (Salt: {v})")),
                        Some(g) if g != v => {
                            problems.push(format!("key {k:?}: {g}, Salt's is {v}"))
                        }
                        Some(_) => {}
                    }
                }
                for (k, v) in &got {
                    if !want.contains_key(k) {
                        problems.push(format!("extra key {k:?}: {v}"));
                    }
                }
            }
        }
        if exp != act {
            problems.push(format!(
                "lines differ (sorted, trailing commas dropped; - Salt, + Halite):\n{}",
                diff(&exp, &act)
            ));
        }
        self.record(name, problems);
    }
}

// ----- minion order ------------------------------------------------------------------

/// How an output made of per-minion parts is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// A part starts at a column-0 line `minion-NN:` (nested and highstate outputs, which
    /// hold the `Summary for` lines inside the minion's part), or is a single column-0 line
    /// `minion-NN: value` (`--out=txt`, `--out=yaml`).
    Lines,
    /// A part is one JSON document, starting at a column-0 `{` (streamed `--out=json`).
    JsonDocs,
}

/// The minion id a column-0 line starts with (`minion-07:` or `minion-07: True`).
fn minion_at_start(line: &str) -> Option<&str> {
    let (id, _) = line.split_once(':')?;
    let digits = id.strip_prefix("minion-")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(id)
}

/// Normalised `lines` with their per-minion parts sorted by minion id. The lines before
/// the first part stay first (`-v`'s header); the trailing empty line and `ERROR:` lines at
/// the end stay last (where Salt prints them); each part is kept whole, in its own order.
fn by_minion(mut lines: Vec<String>, layout: Layout) -> Vec<String> {
    let mut tail = Vec::new();
    while lines
        .last()
        .is_some_and(|l| l.is_empty() || l.starts_with("ERROR:"))
    {
        tail.push(lines.pop().expect("a last line"));
    }
    tail.reverse();
    let starts = |l: &str| match layout {
        Layout::Lines => minion_at_start(l).is_some(),
        Layout::JsonDocs => l == "{",
    };
    let first = lines.iter().position(|l| starts(l)).unwrap_or(lines.len());
    let mut out: Vec<String> = lines[..first].to_vec();
    let mut parts: Vec<Vec<String>> = Vec::new();
    for l in lines.drain(first..) {
        if starts(&l) || parts.is_empty() {
            parts.push(Vec::new());
        }
        parts.last_mut().expect("a part").push(l);
    }
    // The id: the part's header, or for a JSON document its first key.
    let key = |part: &Vec<String>| -> String {
        let line = match layout {
            Layout::Lines => part[0].as_str(),
            Layout::JsonDocs => part.get(1).map_or("", |l| l.trim_start()),
        };
        let line = line.trim_start_matches('"');
        minion_at_start(&line.replacen("\":", ":", 1))
            .map(str::to_string)
            .unwrap_or_default()
    };
    parts.sort_by_cached_key(|p| (key(p), p.clone()));
    out.extend(parts.into_iter().flatten());
    out.extend(tail);
    out
}

/// `salt-run jobs.list_jobs --out=json` against the structure of the (truncated) sample.
/// Jobs of the sample whose `Function` is in `not_required` need not be present here.
fn check_jobs_list(c: &mut Checker, not_required: &[&str]) {
    const NAME: &str = "jobs_list";
    let (out, rc) = c.capture("salt-run", &["jobs.list_jobs", "--out=json"]);
    let _ = fs::write(c.dir.join(format!("{NAME}.raw")), &out);
    let mut problems = Vec::new();
    if rc != Some(0) {
        problems.push(format!("exit code {rc:?}, Salt's is 0"));
    }

    // The sample is `head -40` of the output: keep its complete jobs and close the object.
    let text = sample_output(c.samples, NAME);
    let lines: Vec<&str> = text.lines().collect();
    let last = lines
        .iter()
        .rposition(|l| *l == "    },")
        .expect("jobs_list sample holds a complete job");
    let mut closed = lines[..last].join("\n");
    closed.push_str("\n    }\n}\n");
    let sample_jobs: serde_json::Map<String, Value> =
        serde_json::from_str(&closed).expect("jobs_list sample, cut to its complete jobs, parses");
    let first = sample_jobs.values().next().expect("a job in the sample");
    let keys: Vec<&str> = first
        .as_object()
        .expect("a job is an object")
        .keys()
        .map(String::as_str)
        .collect();

    let text: String = out
        .split_inclusive('\n')
        .filter(|l| !is_python_warning(l))
        .collect();
    let jobs = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(m)) => m,
        Ok(other) => {
            problems.push(format!("output is JSON but not an object: {other}"));
            serde_json::Map::new()
        }
        Err(e) => {
            problems.push(format!("output is not one JSON document ({e}):\n{text}"));
            serde_json::Map::new()
        }
    };
    if jobs.is_empty() && problems.is_empty() {
        problems.push("no jobs listed".into());
    }
    // Salt pretty-prints with 4 spaces: `{`, then `    "<jid>": {`.
    let mut out_lines = text.lines();
    let head = (out_lines.next(), out_lines.next().map(mask_jids));
    if !jobs.is_empty() && head != (Some("{"), Some("    \"JID\": {".to_string())) {
        problems.push(format!(
            "the output does not start like Salt's `{{` / `    \"<jid>\": {{`: {head:?}"
        ));
    }
    let start_time_ok = |s: &str| {
        // "2026, Nov 23 00:12:17.343372"
        let b = s.as_bytes();
        s.len() == 28
            && b[..4].iter().all(u8::is_ascii_digit)
            && &s[4..6] == ", "
            && b[6..9].iter().all(u8::is_ascii_alphabetic)
            && b[9] == b' '
            && digit_shape(&s[10..]) == "D D:D:D.D"
    };
    for (jid, job) in &jobs {
        if jid.len() != 20 || !jid.bytes().all(|b| b.is_ascii_digit()) {
            problems.push(format!("job key {jid:?} is not a 20-digit jid"));
        }
        let Some(job) = job.as_object() else {
            problems.push(format!("job {jid} is not an object: {job}"));
            continue;
        };
        let got: Vec<&str> = job.keys().map(String::as_str).collect();
        if got != keys {
            problems.push(format!("job {jid}: keys {got:?}, Salt's are {keys:?}"));
        }
        for (k, v) in job {
            let ok = match k.as_str() {
                "Arguments" => v.is_array(),
                // A string, or the list of ids of a list target (`-L a,b` → ["a", "b"]).
                "Target" => {
                    v.is_string() || v.as_array().is_some_and(|l| l.iter().all(Value::is_string))
                }
                "StartTime" => v.as_str().is_some_and(start_time_ok),
                _ => v.is_string(),
            };
            if !ok {
                problems.push(format!("job {jid}: {k} = {v} (Salt: {})", first[k]));
            }
        }
    }
    // Every job the sample shows whole was run here too.
    let same = |a: &Value, b: &Value| {
        ["Function", "Arguments", "Target", "Target-type"]
            .iter()
            .all(|k| a.get(k) == b.get(k))
    };
    for want in sample_jobs.values() {
        let function = want["Function"].as_str().unwrap_or_default();
        if not_required.contains(&function) {
            continue;
        }
        if !jobs.values().any(|j| same(j, want)) {
            problems.push(format!(
                "no job like Salt's {} {} on {} ({})",
                want["Function"], want["Arguments"], want["Target"], want["Target-type"]
            ));
        }
    }
    problems.truncate(40);
    c.record(NAME, problems);
}

#[test]
fn cli_output_matches_salt_samples() {
    let mut fleet = start_fleet(1);
    let mut c = Checker::new(&fleet, M1);
    fleet.step("comparing with the master_minion_m1 samples");

    // In master_minion.sh's order.
    c.salt_case("ping_default", &["*", "test.ping"], 0);
    c.salt_case("ping_json", &["*", "test.ping", "--out=json"], 0);
    c.salt_case(
        "ping_json_static",
        &["*", "test.ping", "--out=json", "--static"],
        0,
    );
    c.salt_case("ping_yaml", &["*", "test.ping", "--out=yaml"], 0);
    c.salt_case("ping_txt", &["*", "test.ping", "--out=txt"], 0);
    c.salt_case("target_grain", &["-G", "roles:kube-worker", "test.ping"], 2);
    c.salt_case(
        "target_grain_none",
        &["-G", "roles:nonexistent", "test.ping"],
        2,
    );
    c.salt_case(
        "target_pillar",
        &["-I", "role:control-plane", "test.ping"],
        0,
    );
    c.salt_case(
        "target_compound",
        &[
            "-C",
            "G@roles:kube-master or I@role:worker",
            "grains.item",
            "roles",
            "idx",
        ],
        0,
    );
    c.salt_case("target_nodegroup", &["-N", "workers", "test.ping"], 2);
    c.salt_case(
        "target_list",
        &["-L", "minion-00,minion-99", "test.ping"],
        1,
    );
    c.salt_case("pillar_items", &[MINION, "pillar.items"], 0);
    c.salt_case("grains_item", &["*", "grains.item", "roles", "id", "os"], 0);
    c.salt_case(
        "apply_one_state",
        &[
            MINION,
            "state.sls",
            "perf0",
            "test=True",
            "--state-output=terse",
        ],
        0,
    );
    c.salt_case(
        "apply_noop_terse",
        &["*", "state.apply", "--state-output=terse"],
        0,
    );
    c.salt_case(
        "apply_noop_changes_only",
        &["*", "state.apply", "--state-output=changes"],
        0,
    );
    // "rm one file on minion-00, then: salt minion-00 state.apply"
    let f0 = fleet.path("target/minion-00/f0000.txt");
    fs::remove_file(&f0).unwrap_or_else(|e| panic!("rm {}: {e}", f0.display()));
    c.salt_case("apply_one_change_highstate", &[MINION, "state.apply"], 0);
    c.salt_case(
        "apply_noop_json_minion00",
        &[MINION, "state.apply", "--out=json"],
        0,
    );

    // salt-key -L, then salt-key -L --out=json, into one file with their `$` lines.
    let (plain, rc1) = c.capture("salt-key", &["-L"]);
    let (json, rc2) = c.capture("salt-key", &["-L", "--out=json"]);
    let both = format!("$ salt-key -L\n{plain}$ salt-key -L --out=json\n{json}");
    let rc = if rc1 == Some(0) { rc2 } else { rc1 };
    c.compare_text("salt_key_list", &sample(M1, "salt_key_list"), &both, rc, 0);

    c.salt_case("ping_verbose", &["*", "test.ping", "-v"], 0);
    check_jobs_list(&mut c, &[]);
    let (out, rc) = c.capture("salt-run", &["manage.status"]);
    c.compare_text(
        "manage_status",
        &sample_output(M1, "manage_status"),
        &out,
        rc,
        0,
    );

    let (passed, failed, dir) = (c.passed, c.failed, c.dir);
    conclude(&mut fleet, passed, failed, &dir);
}

/// Fails the test, listing every mismatch, unless every case passed.
fn conclude(fleet: &mut Fleet, passed: Vec<String>, failed: Vec<(String, String)>, dir: &Path) {
    // A dead daemon explains every mismatch: say so (with the logs) first.
    fleet.check_daemons();
    let mut report = format!(
        "{} of {} cases match Salt's output\npassed: {}\n",
        passed.len(),
        passed.len() + failed.len(),
        passed.join(", ")
    );
    if failed.is_empty() {
        fleet.step(&report);
        return;
    }
    let _ = writeln!(
        report,
        "FAILED: {}\n",
        failed
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (name, problems) in &failed {
        let _ = writeln!(report, "===== {name} =====\n{problems}\n");
    }
    let _ = write!(
        report,
        "(raw and normalised outputs: {}/<case>.raw|.actual|.expected; daemon logs and \
         every CLI call: {})",
        dir.display(),
        fleet.root.display()
    );
    panic!("{report}");
}

/// The same cases with ten minions, against `master_minion_m10` (`master_minion.sh 10`).
/// Minions return in any order (in real Salt too), so outputs made of per-minion parts
/// are compared in minion order ([`by_minion`]), the `--static` JSON by its parsed object,
/// and `salt-key -L` / `manage.status` (sorted by Salt itself) exactly.
///
/// In `jobs_list`, the sample's `saltutil.find_job` jobs need not be present: real Salt's
/// CLI publishes them when a job outlives its timeout (the script's first `state.apply`
/// took 20 s on ten Python minions, past the default 5 s); no such wait happens here.
#[test]
fn cli_output_matches_salt_samples_ten_minions() {
    let mut fleet = start_fleet(10);
    let mut c = Checker::new(&fleet, M10);
    fleet.step("comparing with the master_minion_m10 samples");
    use Layout::{JsonDocs, Lines};

    // In master_minion.sh's order.
    c.salt_case_by_minion("ping_default", &["*", "test.ping"], Lines, 0);
    c.salt_case_by_minion("ping_json", &["*", "test.ping", "--out=json"], JsonDocs, 0);
    c.salt_case_static_json(
        "ping_json_static",
        &["*", "test.ping", "--out=json", "--static"],
        0,
    );
    c.salt_case_by_minion("ping_yaml", &["*", "test.ping", "--out=yaml"], Lines, 0);
    c.salt_case_by_minion("ping_txt", &["*", "test.ping", "--out=txt"], Lines, 0);
    c.salt_case_by_minion(
        "target_grain",
        &["-G", "roles:kube-worker", "test.ping"],
        Lines,
        0,
    );
    c.salt_case(
        "target_grain_none",
        &["-G", "roles:nonexistent", "test.ping"],
        2,
    );
    c.salt_case(
        "target_pillar",
        &["-I", "role:control-plane", "test.ping"],
        0,
    );
    c.salt_case_by_minion(
        "target_compound",
        &[
            "-C",
            "G@roles:kube-master or I@role:worker",
            "grains.item",
            "roles",
            "idx",
        ],
        Lines,
        0,
    );
    c.salt_case_by_minion(
        "target_nodegroup",
        &["-N", "workers", "test.ping"],
        Lines,
        0,
    );
    c.salt_case_by_minion(
        "target_list",
        &["-L", "minion-00,minion-99", "test.ping"],
        Lines,
        1,
    );
    c.salt_case("pillar_items", &[MINION, "pillar.items"], 0);
    c.salt_case_by_minion(
        "grains_item",
        &["*", "grains.item", "roles", "id", "os"],
        Lines,
        0,
    );
    c.salt_case(
        "apply_one_state",
        &[
            MINION,
            "state.sls",
            "perf0",
            "test=True",
            "--state-output=terse",
        ],
        0,
    );
    c.salt_case_by_minion(
        "apply_noop_terse",
        &["*", "state.apply", "--state-output=terse"],
        Lines,
        0,
    );
    c.salt_case_by_minion(
        "apply_noop_changes_only",
        &["*", "state.apply", "--state-output=changes"],
        Lines,
        0,
    );
    // "rm one file on minion-00, then: salt minion-00 state.apply"
    let f0 = fleet.path("target/minion-00/f0000.txt");
    fs::remove_file(&f0).unwrap_or_else(|e| panic!("rm {}: {e}", f0.display()));
    c.salt_case("apply_one_change_highstate", &[MINION, "state.apply"], 0);
    c.salt_case(
        "apply_noop_json_minion00",
        &[MINION, "state.apply", "--out=json"],
        0,
    );

    // salt-key -L, then salt-key -L --out=json, into one file with their `$` lines.
    let (plain, rc1) = c.capture("salt-key", &["-L"]);
    let (json, rc2) = c.capture("salt-key", &["-L", "--out=json"]);
    let both = format!("$ salt-key -L\n{plain}$ salt-key -L --out=json\n{json}");
    let rc = if rc1 == Some(0) { rc2 } else { rc1 };
    c.compare_text("salt_key_list", &sample(M10, "salt_key_list"), &both, rc, 0);

    c.salt_case_by_minion("ping_verbose", &["*", "test.ping", "-v"], Lines, 0);
    check_jobs_list(&mut c, &["saltutil.find_job"]);
    let (out, rc) = c.capture("salt-run", &["manage.status"]);
    c.compare_text(
        "manage_status",
        &sample_output(M10, "manage_status"),
        &out,
        rc,
        0,
    );

    let (passed, failed, dir) = (c.passed, c.failed, c.dir);
    conclude(&mut fleet, passed, failed, &dir);
}

/// [`by_minion`]: parts sorted by minion id, whole, with the header and the trailing
/// `ERROR:` lines in place.
#[test]
fn minion_order() {
    let v = |s: &str| s.split('\n').map(str::to_string).collect::<Vec<_>>();
    let j = |v: Vec<String>| v.join("\n");
    // Nested, with a header and a trailing ERROR line.
    assert_eq!(
        j(by_minion(
            v("Executing job with jid JID\n---\n\nminion-02:\n    True\nminion-99:\n    Minion did not return.\n    \nminion-00:\n    True\nERROR: x\n"),
            Layout::Lines
        )),
        "Executing job with jid JID\n---\n\nminion-00:\n    True\nminion-02:\n    True\nminion-99:\n    Minion did not return.\n    \nERROR: x\n"
    );
    // Highstate: the summary stays in its minion's part.
    assert_eq!(
        j(by_minion(
            v("minion-01:\n  Name: a\n\nSummary for minion-01\nTotal\nminion-00:\n  Name: b\n\nSummary for minion-00\nTotal\n"),
            Layout::Lines
        )),
        "minion-00:\n  Name: b\n\nSummary for minion-00\nTotal\nminion-01:\n  Name: a\n\nSummary for minion-01\nTotal\n"
    );
    // --out=txt / --out=yaml.
    assert_eq!(
        j(by_minion(
            v("minion-03: True\nminion-00: True\n"),
            Layout::Lines
        )),
        "minion-00: True\nminion-03: True\n"
    );
    // Streamed JSON.
    assert_eq!(
        j(by_minion(
            v("{\n    \"minion-10\": true\n}\n{\n    \"minion-09\": {\n        \"a\": 1\n    }\n}\n"),
            Layout::JsonDocs
        )),
        "{\n    \"minion-09\": {\n        \"a\": 1\n    }\n}\n{\n    \"minion-10\": true\n}\n"
    );
    // Different contents stay different.
    assert_ne!(
        by_minion(
            v("minion-00:\n    True\nminion-01:\n    False\n"),
            Layout::Lines
        ),
        by_minion(
            v("minion-01:\n    True\nminion-00:\n    False\n"),
            Layout::Lines
        )
    );
}

/// The normalisation itself: what must compare equal does, what must not does not.
#[test]
fn normalisation() {
    let root = Path::new("/tmp/halite-fleet.abc");
    let n = |s: &str| normalize(s, root);
    // Salt right-aligns the total to the summary width; only the number may differ.
    assert_eq!(
        n("Total run time:   245.735 ms"),
        n("Total run time:     7.192 ms")
    );
    assert_eq!(
        n("Total run time:   245.735 ms"),
        n("Total run time:     1.250 s")
    );
    assert_ne!(
        n("Total run time:   245.735 ms"),
        n("Total run time: 7.192 ms")
    );
    assert_eq!(
        n("  Name: /tmp/halite-fleet.abc/t/f.txt - Started: 00:12:22.185043 - Duration: 9.354 ms"),
        n("  Name: /WORK/t/f.txt - Started: 19:34:30.5 - Duration: 12 ms")
    );
    assert_eq!(
        n("    salt-run jobs.lookup_jid 20261123001214966623"),
        vec!["    salt-run jobs.lookup_jid JID".to_string()]
    );
    // Not a jid: 19 or 21 digits.
    assert_eq!(
        n("1234567890123456789"),
        vec!["1234567890123456789".to_string()]
    );
    assert_eq!(
        n("\"start_time\": \"00:12:32.896332\",\n\"duration\": 15.137,"),
        n("\"start_time\": \"01:02:03.000001\",\n\"duration\": 2,")
    );
    assert_eq!(
        n("up:\n[WARNING ] unclosed Runner <salt.runner.Runner object at 0x7f>; call ``destroy()`` or use as a context manager\nunclosed MasterMinion <x>; call ``destroy()`` or use as a context manager\n"),
        vec!["up:".to_string(), String::new()]
    );
    let a = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let d = diff(&a(&["a", "b", "c"]), &a(&["a", "x", "c"]));
    assert!(d.contains("- b") && d.contains("+ x"), "{d}");
}
