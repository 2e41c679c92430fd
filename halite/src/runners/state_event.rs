//! `salt-run state.event [tagmatch='*'] [count=-1] [quiet=False] [sock_dir=None]
//! [pretty=False] [node=master]`, as Salt 3008.5's runner (`salt/runners/state.py`
//! `event`, which runs `salt/modules/state.py` `event`) behaves on the master's bus:
//!
//! * every event whose tag matches `tagmatch` (Salt's `expr_match`: `fnmatch`, then the
//!   regular expression `\A<tagmatch>\Z`) is printed as one flushed line
//!   `<tag>\t<json>`: the data with byte strings decoded where they are UTF-8
//!   (`salt.utils.data.decode(keep=True)`), dumped with `ensure_ascii=False`,
//!   `sort_keys=pretty`, `indent=4 if pretty else None`, the other byte strings in base64;
//! * `quiet` prints nothing per event; `count=N` (N > 0) stops after N matches (so does
//!   `count=0`, after one), any other count listens until killed;
//! * the runner then returns `None`, which the outputter prints (`None` with nested),
//!   exit code 0;
//! * a closed bus (the master restarted) is reconnected, as Salt's `auto_reconnect`.
//!
//! `node=minion` (a minion's own bus) is not available on the master.

use super::{bind, invalid_arguments};
use crate::master_cli::emit;
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_master::events::Listener;
use halite_output::json_out::{dumps, BytesAs, DumpError, DumpOptions};
use halite_output::OutputOptions;
use halite_target::{compile_python_match, Glob};
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// The runner's parameters, in Salt's order.
const PARAMS: [&str; 6] = ["tagmatch", "count", "quiet", "sock_dir", "pretty", "node"];

/// The usage text shown after `Passed invalid arguments`, as Salt shows the function's
/// documentation there.
const USAGE: &str = "
    Watch the master's event bus and print each event whose tag matches.

    :param tagmatch: a glob or a regular expression (default '*').
    :param count: stop after this many matching events; -1 listens forever.
    :param quiet: print nothing per event, just block.
    :param sock_dir: the directory of the master's event socket.
    :param pretty: sorted, indented JSON instead of one line per event.
    :param node: 'master' (the minion's bus is not available here).
";

/// The parsed call.
struct Options {
    tagmatch: TagMatch,
    count: i64,
    quiet: bool,
    sock_dir: PathBuf,
    pretty: bool,
}

/// Why the call cannot run.
enum CallError {
    /// A call Python would refuse: Salt prints `Passed invalid arguments` (exit 0).
    Invalid(String),
    /// Something Halite does not do (exit 1).
    NotAvailable(String),
}

/// Python's `count` as the loop uses it (`count > 0`, `count -= 1`, `count == 0`).
fn count_of(v: &Value) -> Result<i64, CallError> {
    match v {
        Value::Int(i) => Ok(*i),
        Value::Bool(b) => Ok(i64::from(*b)),
        // A fractional count never reaches 0 exactly: it listens forever.
        Value::Float(f) if f.fract() == 0.0 => Ok(*f as i64),
        Value::Float(_) => Ok(-1),
        other => Err(CallError::Invalid(format!(
            "'>' not supported between instances of '{}' and 'int'",
            other.type_name()
        ))),
    }
}

impl Options {
    /// Bind `args`/`kwargs` as Python binds `event(...)`, with Salt's defaults.
    fn parse(cfg: &MasterConfig, args: &[Value], kwargs: &Map) -> Result<Options, CallError> {
        let [tagmatch, count, quiet, sock_dir, pretty, node] =
            bind("event", &PARAMS, args, kwargs).map_err(CallError::Invalid)?;
        let node = node.map(|v| v.py_str()).unwrap_or_else(|| "master".into());
        if node != "master" {
            return Err(CallError::NotAvailable(format!(
                "'state.event node={node}' is not available."
            )));
        }
        let sock_dir = match sock_dir {
            None | Some(Value::Null) => cfg.path("sock_dir"),
            Some(v) => PathBuf::from(v.py_str()),
        };
        Ok(Options {
            tagmatch: TagMatch::new(tagmatch.as_ref().unwrap_or(&Value::from("*"))),
            count: count.as_ref().map(count_of).transpose()?.unwrap_or(-1),
            quiet: quiet.as_ref().is_some_and(Value::is_truthy),
            sock_dir,
            pretty: pretty.as_ref().is_some_and(Value::is_truthy),
        })
    }
}

/// A compiled `re.match`.
type ReMatch = Box<dyn Fn(&str) -> bool>;

/// Salt's `expr_match` for one expression, compiled once.
struct TagMatch {
    glob: Option<Glob>,
    regex: Option<ReMatch>,
}

impl TagMatch {
    /// `expr` as a glob and as `\A<expr>\Z`; a regular expression that does not compile
    /// is skipped, and an expression that is not a string matches nothing (Python's
    /// `TypeError`, which `expr_match` logs).
    fn new(expr: &Value) -> TagMatch {
        match expr {
            Value::Str(s) => TagMatch {
                glob: Some(Glob::new(s)),
                regex: compile_python_match(&format!(r"\A{s}\Z"))
                    .ok()
                    .map(|r| Box::new(move |tag: &str| r.is_match(tag)) as ReMatch),
            },
            other => {
                tracing::error!("Value or expression {} is not a string", other.py_repr());
                TagMatch {
                    glob: None,
                    regex: None,
                }
            }
        }
    }

    /// Does `tag` match?
    fn is_match(&self, tag: &str) -> bool {
        self.glob.as_ref().is_some_and(|g| g.is_match(tag))
            || self.regex.as_ref().is_some_and(|r| r(tag))
    }
}

/// `salt.utils.data.decode(data, keep=True)`: byte strings (keys too) that are UTF-8
/// become strings, the others stay bytes.
fn decode_keep(v: &Value) -> Value {
    match v {
        Value::Bytes(b) => match std::str::from_utf8(b) {
            Ok(s) => Value::Str(s.to_string()),
            Err(_) => v.clone(),
        },
        Value::List(items) => Value::List(items.iter().map(decode_keep).collect()),
        Value::Map(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (decode_keep(k), decode_keep(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// One printed line, without its newline: `<tag>\t<json>`.
fn line(tag: &str, data: &Value, pretty: bool) -> Result<String, DumpError> {
    let opts = DumpOptions {
        indent: pretty.then_some(4),
        sort_keys: pretty,
        bytes: BytesAs::Base64,
    };
    Ok(format!("{tag}\t{}", dumps(&decode_keep(data), &opts)?))
}

/// Connect to the bus, retrying every second once it was up (`auto_reconnect`).
fn reconnect(sock_dir: &std::path::Path) -> Listener {
    loop {
        match Listener::connect(sock_dir, "") {
            Ok(l) => return l,
            Err(e) => {
                tracing::debug!("{e}; retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// What the event loop ended with.
enum End {
    /// `count` matches were seen.
    Done,
    /// Dumping an event raised (Python's `TypeError`).
    Invalid(DumpError),
    /// stdout is gone.
    Stdout(std::io::Error),
}

/// Print matching events until `count` is reached.
fn listen(opts: &Options, mut listener: Listener) -> End {
    let mut count = opts.count;
    loop {
        let (tag, data) = match listener.recv(Duration::from_secs(3600)) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(e) => {
                tracing::warn!("{e}; reconnecting");
                listener = reconnect(&opts.sock_dir);
                continue;
            }
        };
        if !opts.tagmatch.is_match(&tag) {
            tracing::debug!("Skipping event tag: {tag}");
            continue;
        }
        if !opts.quiet {
            let text = match line(&tag, &data, opts.pretty) {
                Ok(t) => t,
                Err(e) => return End::Invalid(e),
            };
            let mut out = std::io::stdout().lock();
            if let Err(e) = writeln!(out, "{text}").and_then(|()| out.flush()) {
                return End::Stdout(e);
            }
        }
        if count > 0 {
            count -= 1;
            tracing::debug!("Remaining event matches: {count}");
        }
        if count == 0 {
            return End::Done;
        }
    }
}

/// Run `state.event`; the exit code.
pub(super) fn run(
    cfg: &MasterConfig,
    outputter: &str,
    oo: &OutputOptions,
    args: &[Value],
    kwargs: &Map,
) -> i32 {
    let opts = match Options::parse(cfg, args, kwargs) {
        Ok(o) => o,
        Err(CallError::Invalid(msg)) => return invalid_arguments(outputter, oo, &msg, USAGE),
        Err(CallError::NotAvailable(msg)) => {
            eprintln!("{msg}");
            return 1;
        }
    };
    let listener = match Listener::connect(&opts.sock_dir, "") {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    match listen(&opts, listener) {
        End::Done => {
            emit(outputter, &Value::Null, oo);
            0
        }
        End::Invalid(e) => invalid_arguments(outputter, oo, &e.to_string(), USAGE),
        End::Stdout(e) => {
            tracing::debug!("stdout closed: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagmatch_is_a_glob_then_an_anchored_regex() {
        let m = |expr: &str, tag: &str| TagMatch::new(&Value::from(expr)).is_match(tag);
        assert!(m("*", "salt/auth"));
        assert!(m("salt/minion/*/start", "salt/minion/m1/start"));
        assert!(!m("salt/minion/*/start", "salt/minion/m1/stop"));
        assert!(m("salt/auth", "salt/auth"));
        assert!(m("(salt/auth|minion_start)", "minion_start"));
        assert!(!m("(salt/auth|minion_start)", "minion_start2"));
        // Python reads `\A a|b \Z` as `(\Aa)|(b\Z)` under `re.match`.
        assert!(m("salt/a|x", "salt/auth"));
        assert!(m(r"salt/job/\d+/ret/.*", "salt/job/2026/ret/m1"));
        // Not a valid regular expression: only the glob counts.
        assert!(m("salt/job/[0-9]*/ret/(", "salt/job/1/ret/("));
        assert!(!m("salt/(", "salt/x"));
        assert!(!TagMatch::new(&Value::Int(1)).is_match("1"));
    }

    #[test]
    fn lines_as_salt_prints_them() {
        let data = Value::Map(
            [
                ("id", Value::from("m1")),
                ("raw", Value::Bytes(vec![0xff, 0xfe])),
                ("text", Value::Bytes("é".as_bytes().to_vec())),
                ("_stamp", Value::from("2026-11-24T02:12:02.689103")),
            ]
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
        );
        assert_eq!(
            line("t", &data, false).unwrap(),
            "t\t{\"id\": \"m1\", \"raw\": \"//4=\", \"text\": \"é\", \"_stamp\": \"2026-11-24T02:12:02.689103\"}"
        );
        assert_eq!(
            line("t", &data, true).unwrap(),
            "t\t{\n    \"_stamp\": \"2026-11-24T02:12:02.689103\",\n    \"id\": \"m1\",\n    \"raw\": \"//4=\",\n    \"text\": \"é\"\n}"
        );
    }

    #[test]
    fn count_follows_pythons_loop() {
        assert_eq!(count_of(&Value::Int(2)).ok(), Some(2));
        assert_eq!(count_of(&Value::Bool(true)).ok(), Some(1));
        assert_eq!(count_of(&Value::Float(1.5)).ok(), Some(-1));
        assert!(count_of(&Value::from("x")).is_err());
    }
}
