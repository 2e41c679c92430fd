//! The master-side commands: `salt` (publish and print returns as they arrive), the entry
//! points of `salt-key` and `salt-run`, and the option parsing they share with the daemons.
//! Options follow Salt's names.

use crate::logging;
use halite_core::config::MasterConfig;
use halite_core::{Map, Value};
use halite_master::client::{Job, LocalClient};
use halite_master::pki::{KeyState, Pki};
use halite_output::OutputOptions;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

/// Options every master command takes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Common {
    pub(crate) config_dir: String,
    pub(crate) log_level: Option<String>,
    pub(crate) out: Option<String>,
    pub(crate) out_indent: Option<i64>,
    pub(crate) color: Option<bool>,
    pub(crate) state_output: Option<String>,
    pub(crate) state_verbose: Option<bool>,
    pub(crate) yes: bool,
}

pub(crate) fn load_config(dir: &str) -> Result<MasterConfig, String> {
    let file = halite_minion::config::load_files(&PathBuf::from(dir), "master")
        .map_err(|e| e.to_string())?;
    Ok(MasterConfig::from_file_map(file))
}

fn out_options(c: &Common, cfg: &MasterConfig) -> OutputOptions {
    let color = c.color.unwrap_or_else(|| {
        cfg.flag("color") && std::io::IsTerminal::is_terminal(&std::io::stdout())
    });
    OutputOptions {
        state_output: c
            .state_output
            .clone()
            .or_else(|| cfg.str("state_output").map(str::to_string))
            .unwrap_or_else(|| "full".into()),
        state_verbose: c
            .state_verbose
            .unwrap_or_else(|| cfg.opts.get("state_verbose").is_none_or(Value::is_truthy)),
        color,
        indent: c.out_indent,
        ..OutputOptions::default()
    }
}

fn print(outputter: &str, data: &Value, opts: &OutputOptions) {
    match halite_output::render(outputter, data, opts) {
        Ok(text) => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            let _ = lock.write_all(text.as_bytes());
            let _ = lock.flush();
        }
        Err(e) => eprintln!("{e}"),
    }
}

/// The value after a flag given last: optparse's error and exit code.
fn next_or_exit(args: &[String], i: &mut usize) -> Option<String> {
    match args.get(*i + 1) {
        Some(v) => {
            *i += 1;
            Some(v.clone())
        }
        None => {
            eprintln!("error: {} option requires 1 argument", args[*i]);
            std::process::exit(2);
        }
    }
}

/// Take an option's value: `--opt=v`, `--opt v`, `-o v` or `-ov`.
fn value(args: &[String], i: &mut usize, long: &[&str], short: Option<char>) -> Option<String> {
    let a = args.get(*i)?;
    for l in long {
        if a == l {
            return next_or_exit(args, i);
        }
        if let Some(v) = a.strip_prefix(&format!("{l}=")) {
            return Some(v.to_string());
        }
    }
    if let Some(s) = short {
        let flag = format!("-{s}");
        if a == &flag {
            return next_or_exit(args, i);
        }
        if a.starts_with(&flag) && a.len() > 2 && !a.starts_with("--") {
            return Some(a[2..].to_string());
        }
    }
    None
}

/// A command's own options: consumes `args[*i]` (and maybe more), `Ok(false)` if not its.
pub(crate) type ExtraOptions<'a> = dyn FnMut(&[String], &mut usize) -> Result<bool, String> + 'a;

/// Parse the options shared by all master commands; unrecognised words are returned.
pub(crate) fn common(
    args: &[String],
    c: &mut Common,
    extra: &mut ExtraOptions,
) -> Result<Vec<String>, String> {
    c.config_dir = "/etc/salt".into();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].clone();
        if let Some(v) = value(args, &mut i, &["--config-dir"], Some('c')) {
            c.config_dir = v;
        } else if let Some(v) = value(args, &mut i, &["--log-level"], Some('l')) {
            c.log_level = Some(v);
        } else if let Some(v) = value(args, &mut i, &["--out", "--output"], None) {
            c.out = Some(v);
        } else if let Some(v) = value(args, &mut i, &["--out-indent", "--output-indent"], None) {
            c.out_indent = v.parse().ok();
        } else if let Some(v) = value(args, &mut i, &["--state-output", "--state_output"], None) {
            c.state_output = Some(v);
        } else if let Some(v) = value(args, &mut i, &["--state-verbose", "--state_verbose"], None) {
            c.state_verbose = Some(matches!(v.to_lowercase().as_str(), "true" | "1" | "yes"));
        } else if a == "--no-color" || a == "--no-colour" {
            c.color = Some(false);
        } else if a == "--force-color" || a == "--force-colour" {
            c.color = Some(true);
        } else if a == "-y" || a == "--yes" {
            c.yes = true;
        } else if extra(args, &mut i)? {
        } else if a.starts_with('-') && a.len() > 1 && a != "-" {
            return Err(format!("no such option: {a}"));
        } else {
            rest.push(a);
        }
        i += 1;
    }
    Ok(rest)
}

/// `salt`.
pub fn salt(args: Vec<String>) -> i32 {
    let mut c = Common::default();
    let mut tgt_type = "glob".to_string();
    let mut timeout: Option<u64> = None;
    let mut is_static = false;
    let mut verbose = false;
    let mut is_async = false;
    let mut batch: Option<String> = None;
    let mut hide_timeout = false;
    let mut show_jid = false;
    let mut delimiter: Option<String> = None;
    let mut ret = String::new();
    let r = common(&args, &mut c, &mut |a, i| {
        let flag = a[*i].as_str();
        let set = |t: &str, tt: &mut String| {
            *tt = t.to_string();
            true
        };
        Ok(match flag {
            "-G" | "--grain" => set("grain", &mut tgt_type),
            "-P" | "--grain-pcre" => set("grain_pcre", &mut tgt_type),
            "-I" | "--pillar" => set("pillar", &mut tgt_type),
            "-J" | "--pillar-pcre" => set("pillar_pcre", &mut tgt_type),
            "-C" | "--compound" => set("compound", &mut tgt_type),
            "-L" | "--list" => set("list", &mut tgt_type),
            "-E" | "--pcre" => set("pcre", &mut tgt_type),
            "-N" | "--nodegroup" => set("nodegroup", &mut tgt_type),
            "-S" | "--ipcidr" => set("ipcidr", &mut tgt_type),
            "-s" | "--static" => {
                is_static = true;
                true
            }
            "-v" | "--verbose" => {
                verbose = true;
                true
            }
            "--async" => {
                is_async = true;
                true
            }
            "--hide-timeout" => {
                hide_timeout = true;
                true
            }
            "--show-jid" => {
                show_jid = true;
                true
            }
            _ => {
                if let Some(v) = value(a, i, &["--timeout"], Some('t')) {
                    timeout = Some(v.parse().map_err(|_| format!("invalid timeout {v:?}"))?);
                    true
                } else if let Some(v) = value(a, i, &["--batch-size", "--batch"], Some('b')) {
                    batch = Some(v);
                    true
                } else if let Some(v) = value(a, i, &["--delimiter"], None) {
                    delimiter = Some(v);
                    true
                } else if let Some(v) = value(a, i, &["--return"], Some('r')) {
                    ret = v;
                    true
                } else {
                    false
                }
            }
        })
    });
    let rest = match r {
        Ok(r) => r,
        Err(e) => {
            eprintln!(
                "Usage: salt [options] '<target>' <function> [arguments]\n\nsalt: error: {e}"
            );
            return 2;
        }
    };
    if rest.len() < 2 {
        eprintln!("Usage: salt [options] '<target>' <function> [arguments]\n\nsalt: error: Invalid arguments");
        return 2;
    }
    let cfg = match load_config(&c.config_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    logging::init(c.log_level.as_deref().unwrap_or("warning"));
    let mut tgt = Value::Str(rest[0].clone());
    if tgt_type == "nodegroup" {
        // Nodegroups are expanded here, as Salt's LocalClient does.
        let groups = cfg
            .opts
            .get("nodegroups")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        if !groups.contains_key(rest[0].as_str()) {
            eprintln!(
                "ERROR: Node group {} unavailable in {}/master",
                rest[0], c.config_dir
            );
            return 2;
        }
        let words = halite_target::nodegroup_comp(&rest[0], &groups);
        tgt = Value::Str(words.join(" "));
        tgt_type = "compound".into();
    } else if tgt_type == "list" {
        tgt = Value::List(
            rest[0]
                .split(',')
                .map(|s| Value::Str(s.trim().to_string()))
                .collect(),
        );
    }
    let fun = rest[1].clone();
    let (mut arg, kwargs) = halite_minion::exec::parse_cli_args(&rest[2..]);
    if !kwargs.is_empty() {
        let mut kw = kwargs;
        kw.insert("__kwarg__".into(), Value::Bool(true));
        arg.push(Value::Map(kw));
    }
    let mut pub_kwargs = Map::default();
    pub_kwargs.insert("show_timeout".into(), Value::Bool(!hide_timeout));
    pub_kwargs.insert("show_jid".into(), Value::Bool(show_jid));
    if let Some(d) = &delimiter {
        pub_kwargs.insert("delimiter".into(), d.clone().into());
    }
    let client = match LocalClient::new(cfg.clone()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    let job = Job {
        tgt,
        tgt_type,
        fun: fun.clone(),
        arg,
        ret,
        kwargs: pub_kwargs,
    };
    let timeout =
        Duration::from_secs(timeout.unwrap_or_else(|| cfg.int("timeout", 5).max(1) as u64));
    let oo = out_options(&c, &cfg);
    let run = Run {
        client: &client,
        common: &c,
        oo: &oo,
        is_static,
        verbose,
        hide_timeout,
        show_jid,
        timeout,
    };
    if is_async {
        return match client.publish(&job) {
            Ok(p) => match p.jid {
                Some(j) => {
                    println!("Executed command with job ID: {j}");
                    0
                }
                None => no_match(),
            },
            Err(e) => {
                eprintln!("ERROR: {e}");
                2
            }
        };
    }
    match batch {
        Some(b) => run.batch(job, &b),
        None => run.once(job, None),
    }
}

struct Run<'a> {
    client: &'a LocalClient,
    common: &'a Common,
    oo: &'a OutputOptions,
    is_static: bool,
    verbose: bool,
    hide_timeout: bool,
    show_jid: bool,
    timeout: Duration,
}

/// Salt's answer when a target matches no minion; the exit code.
fn no_match() -> i32 {
    println!("No minions matched the target. No command was sent, no jid was assigned.");
    eprintln!("ERROR: No return received");
    2
}

fn no_response(jid: &str) -> String {
    format!(
        "Minion did not return. [No response]\nThe minions may not have all finished running and any remaining minions will return upon completion. To look up the return data for this job later, run the following command:\n\nsalt-run jobs.lookup_jid {jid}"
    )
}

impl Run<'_> {
    fn outputter(&self, from_return: Option<&str>) -> String {
        self.common
            .out
            .clone()
            .or_else(|| from_return.map(str::to_string))
            .unwrap_or_else(|| "nested".into())
    }

    /// Publish, print returns as they come (or all at once with `--static`); the exit code.
    fn once(&self, job: Job, only: Option<&[String]>) -> i32 {
        let mut listener = match self.client.listen() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return 2;
            }
        };
        let mut job = job;
        if let Some(ids) = only {
            job.tgt = Value::List(ids.iter().cloned().map(Value::Str).collect());
            job.tgt_type = "list".into();
        }
        let published = match self.client.publish(&job) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return 2;
            }
        };
        let Some(jid) = published.jid else {
            return no_match();
        };
        if self.verbose {
            println!("Executing job with jid {jid}\n-------------------------------------------\n");
        } else if self.show_jid {
            println!("jid: {jid}");
        }
        let mut retcodes: Vec<i64> = Vec::new();
        let mut all = Map::default();
        let mut static_out: Option<String> = None;
        let missing = self.client.collect(
            &mut listener,
            &jid,
            &published.minions,
            self.timeout,
            &mut |id, load| {
                let r = load.get("return").cloned().unwrap_or(Value::Null);
                let rc = match load.get("retcode") {
                    Some(Value::Int(i)) => *i,
                    _ if r == Value::Bool(false) => 1,
                    _ => 0,
                };
                retcodes.push(rc);
                let out = load.get("out").and_then(Value::as_str).map(str::to_string);
                if self.is_static {
                    if static_out.is_none() {
                        static_out = out;
                    }
                    all.insert(id.into(), r);
                } else {
                    let mut one = Map::default();
                    if only.is_some() {
                        // Salt's batch output shows the return's other fields too.
                        one.insert("retcode".into(), Value::Int(rc));
                        one.insert("jid".into(), jid.clone().into());
                    }
                    one.insert(id.into(), r);
                    print(&self.outputter(out.as_deref()), &Value::Map(one), self.oo);
                }
            },
        );
        let mut missing = missing;
        missing.extend(published.missing.iter().cloned());
        // `--static` runs as Salt's quiet batch: minions that did not answer are left
        // out, and the exit code only says whether anything came back.
        if !self.hide_timeout && !self.is_static {
            for id in &missing {
                retcodes.push(1);
                let mut one = Map::default();
                one.insert(id.clone().into(), Value::Str(no_response(&jid)));
                print(&self.outputter(None), &Value::Map(one), self.oo);
            }
        }
        if self.is_static {
            if all.is_empty() {
                eprintln!("ERROR: No return received");
                return 2;
            }
            print(
                &self.outputter(static_out.as_deref()),
                &Value::Map(all),
                self.oo,
            );
            return 0;
        } else if retcodes.is_empty() {
            eprintln!("ERROR: No return received");
            return 2;
        }
        if retcodes.iter().any(|r| *r != 0) {
            eprintln!("ERROR: Minions returned with non-zero exit code");
            return 1;
        }
        0
    }

    /// `-b`: run on `size` minions (or a percentage) at a time.
    fn batch(&self, job: Job, size: &str) -> i32 {
        let mut probe = job.clone();
        probe.fun = "test.ping".into();
        probe.arg = vec![];
        let mut listener = match self.client.listen() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return 2;
            }
        };
        let published = match self.client.publish(&probe) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("ERROR: {e}");
                return 2;
            }
        };
        let Some(jid) = published.jid else {
            return no_match();
        };
        let mut up: Vec<String> = Vec::new();
        self.client.collect(
            &mut listener,
            &jid,
            &published.minions,
            self.timeout,
            &mut |id, _| up.push(id.to_string()),
        );
        up.sort();
        let n = if let Some(p) = size.strip_suffix('%') {
            let pct: f64 = p.parse().unwrap_or(100.0);
            ((up.len() as f64 * pct / 100.0).ceil() as usize).max(1)
        } else {
            size.parse::<usize>().unwrap_or(1).max(1)
        };
        let mut worst = 0;
        for chunk in up.chunks(n) {
            let names: Vec<String> = chunk.iter().map(|s| format!("'{s}'")).collect();
            println!("\nExecuting run on [{}]\n", names.join(", "));
            let rc = self.once(job.clone(), Some(chunk));
            worst = worst.max(rc);
        }
        worst
    }
}

/// `salt-key`.
pub fn salt_key(args: Vec<String>) -> i32 {
    let mut c = Common::default();
    let mut action: Option<(&'static str, Option<String>)> = None;
    let mut include_all = false;
    let r = common(&args, &mut c, &mut |a, i| {
        let f = a[*i].as_str();
        let simple = |name: &'static str| Some((name, None::<String>));
        let got = match f {
            "-L" | "--list-all" => simple("list"),
            "-A" | "--accept-all" => simple("accept_all"),
            "-R" | "--reject-all" => simple("reject_all"),
            "-D" | "--delete-all" => simple("delete_all"),
            "-F" | "--finger-all" => simple("finger_all"),
            "--include-all" | "--include-rejected" | "--include-denied" => {
                include_all = true;
                return Ok(true);
            }
            _ => {
                if let Some(v) = value(a, i, &["--accept"], Some('a')) {
                    Some(("accept", Some(v)))
                } else if let Some(v) = value(a, i, &["--reject"], Some('r')) {
                    Some(("reject", Some(v)))
                } else if let Some(v) = value(a, i, &["--delete"], Some('d')) {
                    Some(("delete", Some(v)))
                } else if let Some(v) = value(a, i, &["--print"], Some('p')) {
                    Some(("print", Some(v)))
                } else if let Some(v) = value(a, i, &["--finger"], Some('f')) {
                    Some(("finger", Some(v)))
                } else {
                    value(a, i, &["--list"], Some('l')).map(|v| ("list_state", Some(v)))
                }
            }
        };
        match got {
            Some(g) => {
                action = Some(g);
                Ok(true)
            }
            None => Ok(false),
        }
    });
    if let Err(e) = r {
        eprintln!("Usage: salt-key [options]\n\nsalt-key: error: {e}");
        return 2;
    }
    let cfg = match load_config(&c.config_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    logging::init(c.log_level.as_deref().unwrap_or("warning"));
    let pki = match Pki::open(&cfg.path("pki_dir")) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{}: {e}", cfg.path("pki_dir").display());
            return 1;
        }
    };
    let oo = out_options(&c, &cfg);
    let (act, arg) = action.unwrap_or(("list", None));
    crate::key_cli::run(
        &cfg,
        &pki,
        &c.out,
        &oo,
        c.yes,
        include_all,
        act,
        arg.as_deref(),
    )
}

/// The pieces `key_cli` and `run_cli` need from here.
pub(crate) fn emit(outputter: &str, data: &Value, oo: &OutputOptions) {
    print(outputter, data, oo)
}

/// Does the user agree (`-y` or an answer starting with `y`, `Y` or empty)?
pub(crate) fn confirm(yes: bool, prompt: &str) -> bool {
    if yes {
        return true;
    }
    print!("{prompt} [n/Y] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return false;
    }
    let l = line.trim();
    l.is_empty() || l.starts_with('y') || l.starts_with('Y')
}

/// `KeyState` for `salt-key -l <state>`.
pub(crate) fn key_state_named(s: &str) -> Option<Vec<KeyState>> {
    Some(match s {
        "acc" | "accepted" => vec![KeyState::Accepted],
        "pre" | "un" | "unaccepted" => vec![KeyState::Pending],
        "rej" | "rejected" => vec![KeyState::Rejected],
        "den" | "denied" => vec![KeyState::Denied],
        "all" => KeyState::ALL.to_vec(),
        _ => return None,
    })
}

/// `salt-run`.
pub fn salt_run(args: Vec<String>) -> i32 {
    let mut c = Common::default();
    let mut timeout: Option<u64> = None;
    let r = common(&args, &mut c, &mut |a, i| {
        if let Some(v) = value(a, i, &["--timeout"], Some('t')) {
            timeout = v.parse().ok();
            return Ok(true);
        }
        Ok(false)
    });
    let rest = match r {
        Ok(r) => r,
        Err(e) => {
            eprintln!("Usage: salt-run [options] <function> [arguments]\n\nsalt-run: error: {e}");
            return 2;
        }
    };
    let Some(fun) = rest.first().cloned() else {
        eprintln!("Usage: salt-run [options] <function> [arguments]\n\nsalt-run: error: Requires function");
        return 2;
    };
    let cfg = match load_config(&c.config_dir) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    logging::init(c.log_level.as_deref().unwrap_or("warning"));
    let oo = out_options(&c, &cfg);
    let (args, kwargs) = halite_minion::exec::parse_cli_args(&rest[1..]);
    crate::run_cli::run(&cfg, &c.out, &oo, &fun, &args, &kwargs, timeout)
}
