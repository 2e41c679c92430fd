//! `k8s_node.*` against a **recorded** Kubernetes API exchange.
//!
//! No Kubernetes API server can be installed on this machine, so these tests replay HTTP
//! exchanges recorded in `tests/fixtures/node/*.json`: each an ordered list of
//! `{request: {method, path, query?, content_type?, body?}, response: {status, headers, body}}`
//! with Node objects shaped as a v1.35 API server returns them. A small HTTP/1.1 server on
//! 127.0.0.1 (one thread, `Connection: close` on every answer) serves the responses in order
//! and checks every request the kube client sends against the recorded one (method, path,
//! query, content type, and body as parsed JSON); an unexpected or missing request fails the
//! test with a diff. The client reaches it through a kubeconfig written to a temp dir that
//! names `http://127.0.0.1:<port>` (plain http, no auth).

use halite_core::json::{from_json, to_json};
use halite_core::{Error, Functions, Map, Result, Value};
use halite_states::modules::{Registry, StateCall};
use serde_json::{json, Value as Json};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// The replay server.

/// One recorded request/response pair.
struct Exchange {
    request: Json,
    response: Json,
}

/// What the server saw: how many recorded exchanges it served, and every mismatch.
#[derive(Default)]
struct Seen {
    served: usize,
    failures: Vec<String>,
}

/// A replay server for one fixture; [`Replay::finish`] checks it saw exactly the recording.
struct Replay {
    port: u16,
    total: usize,
    fixture: String,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Replay {
    /// Serve `tests/fixtures/node/<fixture>` on a free port of 127.0.0.1.
    fn start(fixture: &str) -> Replay {
        let path = fixture_path(fixture);
        let text = std::fs::read_to_string(&path).unwrap();
        let list: Vec<Json> = serde_json::from_str(&text).unwrap();
        let exchanges: Vec<Exchange> = list
            .into_iter()
            .map(|e| Exchange {
                request: e["request"].clone(),
                response: e["response"].clone(),
            })
            .collect();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let total = exchanges.len();
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || serve(listener, exchanges, seen, stop))
        };
        Replay {
            port,
            total,
            fixture: fixture.to_string(),
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// The server's URL.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Fail the test on any mismatch so far.
    fn check(&self) {
        let seen = self.seen.lock().unwrap();
        assert!(
            seen.failures.is_empty(),
            "replay of {}: {}",
            self.fixture,
            seen.failures.join("\n\n")
        );
    }

    /// Stop the server; fail the test unless every recorded request came, as recorded.
    fn finish(mut self) {
        self.shutdown();
        self.check();
        let served = self.seen.lock().unwrap().served;
        assert_eq!(
            served, self.total,
            "replay of {}: {} of {} recorded requests were made",
            self.fixture, served, self.total
        );
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/node")
        .join(name)
}

/// Accept connections until stopped; each carries one request.
fn serve(
    listener: TcpListener,
    exchanges: Vec<Exchange>,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
) {
    let mut next = 0;
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if let Err(msg) = answer(stream, &exchanges, &mut next, &seen) {
                    seen.lock().unwrap().failures.push(msg);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                seen.lock().unwrap().failures.push(format!("accept: {e}"));
                return;
            }
        }
    }
}

/// Read one request, compare it with the next recorded one, and answer (the recorded response,
/// or a 500 `Status` on a mismatch), then close the connection.
fn answer(
    stream: TcpStream,
    exchanges: &[Exchange],
    next: &mut usize,
    seen: &Mutex<Seen>,
) -> std::result::Result<(), String> {
    stream.set_nonblocking(false).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(stream.try_clone().map_err(|e| e.to_string())?);
    let got = match read_request(&mut reader) {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(()), // a connection closed without a request
        Err(e) => return Err(format!("reading a request: {e}")),
    };
    let Some(exchange) = exchanges.get(*next) else {
        write_response(&stream, &mismatch_status("no more recorded requests"))?;
        return Err(format!(
            "unexpected request #{} (the recording has {}):\n{}",
            *next + 1,
            exchanges.len(),
            pretty(&got)
        ));
    };
    let diffs = request_diff(&exchange.request, &got);
    if !diffs.is_empty() {
        write_response(
            &stream,
            &mismatch_status("request differs from the recording"),
        )?;
        return Err(format!(
            "request #{} differs from the recording:\n  {}\nrecorded: {}\nreceived: {}",
            *next + 1,
            diffs.join("\n  "),
            pretty(&exchange.request),
            pretty(&got)
        ));
    }
    *next += 1;
    seen.lock().unwrap().served += 1;
    write_response(&stream, &exchange.response)
}

fn pretty(v: &Json) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A request as the fixtures record it.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Json>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(reader)?
    } else {
        let len: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        body
    };
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    let mut req = serde_json::Map::new();
    req.insert("method".into(), method.into());
    req.insert("path".into(), path.into());
    if !query.is_empty() {
        req.insert("query".into(), query.into());
    }
    if let Some(ct) = header("content-type") {
        req.insert("content_type".into(), ct.into());
    }
    if !body.is_empty() {
        let parsed = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&body).into_owned()));
        req.insert("body".into(), parsed);
    }
    Ok(Some(Json::Object(req)))
}

/// A `Transfer-Encoding: chunked` body.
fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// The differences between a recorded and a received request, as `field: recorded vs received`
/// lines (bodies compared as JSON, down to the differing paths).
fn request_diff(want: &Json, got: &Json) -> Vec<String> {
    let mut diffs = Vec::new();
    for field in ["method", "path", "query", "content_type"] {
        if want.get(field) != got.get(field) {
            diffs.push(format!(
                "{field}: recorded {}, received {}",
                shown(want.get(field)),
                shown(got.get(field))
            ));
        }
    }
    json_diff("body", want.get("body"), got.get("body"), &mut diffs);
    diffs
}

fn shown(v: Option<&Json>) -> String {
    v.map_or_else(|| "(absent)".to_string(), Json::to_string)
}

fn json_diff(at: &str, want: Option<&Json>, got: Option<&Json>, out: &mut Vec<String>) {
    match (want, got) {
        (Some(Json::Object(w)), Some(Json::Object(g))) => {
            for key in w.keys().chain(g.keys().filter(|k| !w.contains_key(*k))) {
                json_diff(&format!("{at}.{key}"), w.get(key), g.get(key), out);
            }
        }
        (Some(Json::Array(w)), Some(Json::Array(g))) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                json_diff(&format!("{at}[{i}]"), Some(a), Some(b), out);
            }
        }
        (w, g) if w != g => out.push(format!(
            "{at}: recorded {}, received {}",
            shown(w),
            shown(g)
        )),
        _ => {}
    }
}

/// The `Status` answered to a request that is not the recorded one.
fn mismatch_status(why: &str) -> Json {
    json!({
        "status": 500,
        "headers": {"Content-Type": "application/json"},
        "body": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": format!("replay: {why}"), "reason": "InternalError", "code": 500}
    })
}

/// Write a recorded response (its headers, a computed Content-Length, `Connection: close`).
fn write_response(mut stream: &TcpStream, resp: &Json) -> std::result::Result<(), String> {
    let status = resp["status"].as_u64().unwrap_or(500);
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Internal Server Error",
    };
    let mut body = serde_json::to_vec(&resp["body"]).map_err(|e| e.to_string())?;
    body.push(b'\n');
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    if let Some(headers) = resp["headers"].as_object() {
        for (k, v) in headers {
            head.push_str(&format!("{k}: {}\r\n", v.as_str().unwrap_or_default()));
        }
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body))
        .and_then(|()| stream.flush())
        .map_err(|e| format!("writing the response: {e}"))?;
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Running the states and execution functions.

/// A kubeconfig naming `server`, in a temp dir that lives as long as the value.
struct Kubeconfig {
    dir: tempfile::TempDir,
}

impl Kubeconfig {
    fn new(server: &str) -> Kubeconfig {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: recorded\n  cluster:\n    server: {server}\n\
             contexts:\n- name: recorded\n  context:\n    cluster: recorded\n    user: recorded\n\
             current-context: recorded\nusers:\n- name: recorded\n  user: {{}}\n"
        );
        std::fs::write(dir.path().join("admin.conf"), text).unwrap();
        Kubeconfig { dir }
    }

    fn path(&self) -> String {
        self.dir.path().join("admin.conf").display().to_string()
    }
}

/// No execution functions (the `k8s_node` states call none).
struct NoFunctions;

impl Functions for NoFunctions {
    fn call(&self, name: &str, _args: &[Value], _kwargs: &Map) -> Result<Value> {
        Err(Error::NotAvailable(name.to_string()))
    }
    fn exists(&self, _name: &str) -> bool {
        false
    }
}

/// Run state `fun` with the low chunk `low` (a JSON object) and the minion options `opts`;
/// the state return as JSON.
fn run_state(fun: &str, low: Json, opts: Json, test: bool) -> Json {
    let mut registry = Registry::new();
    halite_k8s::register(&mut registry);
    let state = registry.get(fun).unwrap();
    let low = from_json(&low).as_map().unwrap().clone();
    let opts = from_json(&opts).as_map().unwrap().clone();
    let call = StateCall {
        low: &low,
        test,
        functions: &NoFunctions,
        opts: &opts,
        reqs: None,
        running: &Default::default(),
    };
    to_json(&Value::Map(state(&call).unwrap()))
}

/// Run execution function `fun` of this crate.
fn run_exec(fun: &str, args: Json, opts: Json) -> Result<Json> {
    let opts = from_json(&opts).as_map().unwrap().clone();
    let ctx = halite_k8s::ExecContext {
        opts: &opts,
        grains: &Value::Null,
        pillar: &Value::Null,
        functions: &NoFunctions,
    };
    let args = from_json(&args).as_list().unwrap().clone();
    halite_k8s::call(&ctx, fun, &args, &Map::default()).map(|v| to_json(&v))
}

// ---------------------------------------------------------------------------------------------
// The cases.

#[test]
fn labels_converge_then_hold() {
    let replay = Replay::start("labels_converge.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({
        "name": "node-1",
        "roles": ["control-plane", "infra"],
        "kubeconfig": kc.path(),
    });
    let first = run_state("k8s_node.labels", low.clone(), json!({}), false);
    replay.check();
    assert_eq!(
        first,
        json!({
            "name": "node-1",
            "changes": {"labels": {
                "added": {"node-role.kubernetes.io/infra": ""},
                "removed": ["node-role.kubernetes.io/etcd"]
            }},
            "result": true,
            "comment": "Node node-1 labels updated"
        })
    );
    // The second run reads the patched Node and makes no PATCH.
    let second = run_state("k8s_node.labels", low, json!({}), false);
    replay.finish();
    assert_eq!(
        second,
        json!({
            "name": "node-1",
            "changes": {},
            "result": true,
            "comment": "Node node-1 labels are already in the correct state"
        })
    );
}

#[test]
fn labels_under_test_only_read() {
    let replay = Replay::start("labels_test_mode.json");
    let kc = Kubeconfig::new(&replay.url());
    // The kubeconfig comes from the minion option this time.
    let low = json!({
        "name": "node-1",
        "roles": ["control-plane", "etcd"],
        "labels": {"topology.kubernetes.io/zone": "lab-b", "halite.io/managed": "true"},
    });
    let got = run_state(
        "k8s_node.labels",
        low,
        json!({"k8s.kubeconfig": kc.path()}),
        true,
    );
    replay.finish();
    assert_eq!(
        got,
        json!({
            "name": "node-1",
            "changes": {"labels": {
                "added": {"halite.io/managed": "true"},
                "changed": {"topology.kubernetes.io/zone": {"old": "lab-a", "new": "lab-b"}}
            }},
            "result": null,
            "comment": "Node node-1 labels would be updated"
        })
    );
}

#[test]
fn taints_converge_keeping_foreign_taints() {
    let replay = Replay::start("taints_converge.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({
        "name": "node-2",
        "taints": [
            "node-role.kubernetes.io/infra:NoSchedule",
            {"key": "node-role.kubernetes.io/bootstrap", "value": "true",
             "effect": "PreferNoSchedule"}
        ],
        "kubeconfig": kc.path(),
    });
    let first = run_state("k8s_node.taints", low.clone(), json!({}), false);
    replay.check();
    assert_eq!(
        first,
        json!({
            "name": "node-2",
            "changes": {"taints": {
                "old": [
                    "dedicated=storage:NoSchedule",
                    "node-role.kubernetes.io/control-plane:NoSchedule",
                    "example.com/maintenance=disk:NoExecute"
                ],
                "new": [
                    "dedicated=storage:NoSchedule",
                    "example.com/maintenance=disk:NoExecute",
                    "node-role.kubernetes.io/infra:NoSchedule",
                    "node-role.kubernetes.io/bootstrap=true:PreferNoSchedule"
                ]
            }},
            "result": true,
            "comment": "Node node-2 taints updated"
        })
    );
    let second = run_state("k8s_node.taints", low, json!({}), false);
    replay.finish();
    assert_eq!(second["result"], json!(true));
    assert_eq!(second["changes"], json!({}));
    assert_eq!(
        second["comment"],
        json!("Node node-2 taints are already in the correct state")
    );
}

#[test]
fn taints_conflict_is_read_again_and_retried() {
    let replay = Replay::start("taints_conflict.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({
        "name": "node-3",
        "taints": ["node-role.kubernetes.io/infra:NoSchedule"],
        "kubeconfig": kc.path(),
    });
    let got = run_state("k8s_node.taints", low, json!({}), false);
    replay.finish();
    // The changes are against the Node as read after the conflict.
    assert_eq!(
        got,
        json!({
            "name": "node-3",
            "changes": {"taints": {
                "old": [
                    "node-role.kubernetes.io/control-plane:NoSchedule",
                    "node.kubernetes.io/unschedulable:NoSchedule"
                ],
                "new": [
                    "node.kubernetes.io/unschedulable:NoSchedule",
                    "node-role.kubernetes.io/infra:NoSchedule"
                ]
            }},
            "result": true,
            "comment": "Node node-3 taints updated"
        })
    );
}

#[test]
fn a_bad_taint_effect_fails_before_any_request() {
    let replay = Replay::start("no_requests.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({
        "name": "node-2",
        "taints": ["node-role.kubernetes.io/infra=yes:NoWay"],
        "kubeconfig": kc.path(),
    });
    let got = run_state("k8s_node.taints", low, json!({}), false);
    replay.finish();
    assert_eq!(got["result"], json!(false));
    let comment = got["comment"].as_str().unwrap();
    assert!(
        comment.contains("node-role.kubernetes.io/infra=yes:NoWay") && comment.contains("NoWay"),
        "{comment}"
    );
}

#[test]
fn a_missing_node_fails() {
    let replay = Replay::start("node_missing.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({"name": "node-9", "roles": ["infra"], "kubeconfig": kc.path()});
    let got = run_state("k8s_node.labels", low, json!({}), false);
    let url = replay.url();
    replay.finish();
    assert_eq!(
        got,
        json!({
            "name": "node-9",
            "changes": {},
            "result": false,
            "comment": format!("Node node-9 not found in the Kubernetes API ({url})")
        })
    );
}

#[test]
fn execution_functions_read_labels_and_taints() {
    let replay = Replay::start("get_labels_taints.json");
    let kc = Kubeconfig::new(&replay.url());
    let labels = run_exec(
        "k8s_node.get_labels",
        json!(["node-2", kc.path()]),
        json!({}),
    );
    replay.check();
    let taints = run_exec(
        "k8s_node.get_taints",
        json!(["node-2"]),
        json!({"k8s.kubeconfig": kc.path()}),
    );
    replay.finish();
    let labels = labels.unwrap();
    assert_eq!(labels["kubernetes.io/hostname"], json!("node-2"));
    assert_eq!(labels["node-role.kubernetes.io/control-plane"], json!(""));
    assert_eq!(labels.as_object().unwrap().len(), 9);
    assert_eq!(
        taints.unwrap(),
        json!([
            "dedicated=storage:NoSchedule",
            "node-role.kubernetes.io/control-plane:NoSchedule",
            "example.com/maintenance=disk:NoExecute"
        ])
    );
}

#[test]
fn an_unreachable_server_fails_fast() {
    // A port that was just free and is now closed: the connection is refused.
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = format!("http://127.0.0.1:{port}");
    let kc = Kubeconfig::new(&server);
    let low = json!({"name": "node-1", "roles": ["infra"], "kubeconfig": kc.path()});
    let got = run_state("k8s_node.labels", low, json!({}), false);
    assert_eq!(got["result"], json!(false));
    let comment = got["comment"].as_str().unwrap();
    assert!(
        comment.starts_with(&format!("Cannot reach the Kubernetes API at {server}: ")),
        "{comment}"
    );
    assert!(comment.contains("Connection refused"), "{comment}");
    let err = run_exec(
        "k8s_node.get_taints",
        json!(["node-1", kc.path()]),
        json!({}),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("Connection refused"), "{err}");
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.conf").display().to_string();
    let low = json!({"name": "node-1", "taints": [], "kubeconfig": path});
    let got = run_state("k8s_node.taints", low, json!({}), false);
    assert_eq!(got["result"], json!(false));
    assert_eq!(
        got["comment"],
        json!(format!(
            "cannot read kubeconfig {path}: No such file or directory"
        ))
    );
}

#[test]
fn taints_give_up_after_repeated_conflicts() {
    let replay = Replay::start("taints_conflict_exhausted.json");
    let kc = Kubeconfig::new(&replay.url());
    let low = json!({
        "name": "node-4",
        "taints": ["node-role.kubernetes.io/infra:NoSchedule"],
        "kubeconfig": kc.path(),
    });
    let got = run_state("k8s_node.taints", low, json!({}), false);
    let url = replay.url();
    replay.finish();
    assert_eq!(
        got,
        json!({
            "name": "node-4",
            "changes": {},
            "result": false,
            "comment": format!(
                "The Kubernetes API ({url}) refused to patch Node node-4: 409 Conflict: \
                 Operation cannot be fulfilled on nodes \"node-4\": the object has been \
                 modified; please apply your changes to the latest version and try again \
                 (still conflicting after 4 attempts)"
            )
        })
    );
}
