//! Golden tests: every outputter file real Salt 3008.5 recorded in the conformance corpus
//! (`shared/conformance/cases/*/expected`), re-rendered from the same case's `json.out`.
//!
//! The json data has Salt's run-to-run values normalised to placeholders; they are put back
//! as realistic values (and `@ROOT@` as a 19-character temp root, as the runner uses, so
//! line wrapping happens at the same places), the data is rendered, and the result is
//! normalised with the corpus's own `normalize.py` and compared byte for byte.

use halite_core::{Map, Value};
use halite_output::{render, OutputOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const FAKE_ROOT: &str = "/tmp/hconf.abcdefgh";

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance")
}

/// The outputter and options each recorded file name stands for (the README's table).
fn outputter_for(name: &str) -> Option<(&'static str, OutputOptions)> {
    let base = OutputOptions::default();
    let with_mode = |mode: &str| OutputOptions {
        state_output: mode.to_string(),
        ..OutputOptions::default()
    };
    Some(match name {
        "json" => ("json", base),
        "highstate" => ("highstate", base),
        "nested" => ("nested", base),
        "yaml" => ("yaml", base),
        "txt" => ("txt", base),
        "terse" => ("highstate", with_mode("terse")),
        "mixed" => ("highstate", with_mode("mixed")),
        "changes_only" => ("highstate", with_mode("changes")),
        "not_verbose" => (
            "highstate",
            OutputOptions {
                state_verbose: false,
                ..OutputOptions::default()
            },
        ),
        _ => return None,
    })
}

/// Undo the normalisation placeholders with plausible real values.
fn realistic(v: &Value, key: Option<&str>) -> Value {
    match (key, v) {
        (Some("start_time"), Value::Str(s)) if s == "@TIME@" => Value::from("10:11:12.123456"),
        (Some("duration"), Value::Str(s)) if s == "@DURATION@" => Value::Float(1.234),
        (Some("pid"), Value::Str(s)) if s == "@PID@" => Value::Int(4242),
        (Some("jid"), Value::Str(s)) if s == "@JID@" => Value::from("20250101010101123456"),
        (_, Value::Str(s)) => Value::Str(s.replace("@ROOT@", FAKE_ROOT)),
        (_, Value::List(items)) => Value::List(items.iter().map(|i| realistic(i, None)).collect()),
        (_, Value::Map(m)) => {
            let mut out = Map::with_capacity_and_hasher(m.len(), Default::default());
            for (k, val) in m {
                let new_key = realistic(k, None);
                out.insert(new_key, realistic(val, k.as_str()));
            }
            Value::Map(out)
        }
        (_, other) => other.clone(),
    }
}

/// Normalise every text with the corpus's `normalize.py` (its `normalize()` function, in
/// one Python process; the host-name lookup it does per call is done once).
fn normalize_all(corpus: &Path, texts: &[String]) -> Vec<String> {
    let script = format!(
        "import sys, json\nsys.path.insert(0, {dir:?})\nimport normalize as n\n\
         hosts = n._hostnames()\nn._hostnames = lambda: hosts\n\
         texts = json.load(sys.stdin)\n\
         json.dump([n.normalize(t, {root:?}) for t in texts], sys.stdout)\n",
        dir = corpus.display().to_string(),
        root = FAKE_ROOT,
    );
    let mut child = Command::new("python3")
        .args(["-c", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let input = serde_json::to_string(texts).expect("texts serialise");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("python reads its input");
    let out = child.wait_with_output().expect("python finishes");
    assert!(out.status.success(), "normalize.py failed");
    serde_json::from_slice(&out.stdout).expect("normalised texts come back as JSON")
}

fn first_difference(expected: &str, got: &str) -> String {
    let mut exp_lines = expected.split('\n');
    let mut got_lines = got.split('\n');
    for n in 1.. {
        match (exp_lines.next(), got_lines.next()) {
            (None, None) => break,
            (e, g) if e != g => return format!("line {n}: expected {e:?}, got {g:?}"),
            _ => {}
        }
    }
    "identical lines".into()
}

#[test]
fn recorded_outputs_match() {
    let corpus = corpus_dir();
    let cases_dir = corpus.join("cases");
    let Ok(entries) = std::fs::read_dir(&cases_dir) else {
        println!(
            "conformance corpus not found at {}: skipped",
            cases_dir.display()
        );
        return;
    };
    let mut cases: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    cases.sort();
    let (mut passed, mut failed) = (Vec::new(), Vec::new());
    let mut rendered: Vec<(String, String, String)> = Vec::new();
    for case in cases {
        let case_name = case
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let expected_dir = case.join("expected");
        let Ok(files) = std::fs::read_dir(&expected_dir) else {
            continue;
        };
        let mut files: Vec<String> = files
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
            .collect();
        files.sort();
        for json_file in files
            .iter()
            .filter(|f| f.starts_with("json.") && f.ends_with(".out"))
        {
            // `json.out` or `json.N.out`: the run suffix shared by that run's other files.
            let suffix = &json_file["json".len()..json_file.len() - ".out".len()];
            let json_text =
                std::fs::read_to_string(expected_dir.join(json_file)).expect("readable json.out");
            if json_text.trim().is_empty() {
                println!("SKIP {case_name}/{json_file}: empty (the call failed)");
                continue;
            }
            let parsed: serde_json::Value =
                serde_json::from_str(&json_text).expect("json.out parses");
            let data = realistic(&halite_core::json::from_json(&parsed), None);
            for file in &files {
                let Some(stem) = file.strip_suffix(&format!("{suffix}.out")) else {
                    continue;
                };
                if stem.contains('.') {
                    continue;
                }
                let Some((outputter, opts)) = outputter_for(stem) else {
                    continue;
                };
                let expected = std::fs::read_to_string(expected_dir.join(file))
                    .expect("readable expected file");
                let label = format!(
                    "{case_name}/{file} ({outputter}, state_output={}, verbose={})",
                    opts.state_output, opts.state_verbose
                );
                match render(outputter, &data, &opts) {
                    Ok(text) => rendered.push((label, expected, text)),
                    Err(e) => failed.push(format!("{label}: render error {e}")),
                }
            }
        }
    }
    let texts: Vec<String> = rendered.iter().map(|r| r.2.clone()).collect();
    for ((label, expected, _), got) in rendered.into_iter().zip(normalize_all(&corpus, &texts)) {
        if got == expected {
            passed.push(label);
        } else {
            failed.push(format!("{label}: {}", first_difference(&expected, &got)));
        }
    }
    for p in &passed {
        println!("PASS {p}");
    }
    for f in &failed {
        println!("FAIL {f}");
    }
    println!("{} passed, {} failed", passed.len(), failed.len());
    assert!(
        failed.is_empty(),
        "{} recorded outputs differ:\n{}",
        failed.len(),
        failed.join("\n")
    );
}
