//! `salt-call` options, parsed the way Salt's optparse parser takes them: long options with
//! `--opt=value` or `--opt value`, short options, options anywhere among the positional words,
//! `--` ending the options.

use halite_core::{Map, Value};
use halite_output::OutputOptions;

/// The parsed `salt-call` command line.
#[derive(Debug, Clone, Default)]
pub struct CallOpts {
    /// `-c/--config-dir` (default `/etc/salt`).
    pub config_dir: String,
    /// `--local`.
    pub local: bool,
    /// `--id`.
    pub id: Option<String>,
    /// `--out`.
    pub out: Option<String>,
    /// `--out-indent`.
    pub out_indent: Option<i64>,
    /// `--out-file`.
    pub out_file: Option<String>,
    /// `--out-file-append`.
    pub out_file_append: bool,
    /// `--state-output`.
    pub state_output: Option<String>,
    /// `--state-verbose`.
    pub state_verbose: Option<bool>,
    /// `--no-color` / `--force-color` (`Some(false)` / `Some(true)`).
    pub color: Option<bool>,
    /// `-l/--log-level`.
    pub log_level: Option<String>,
    /// `--log-file`.
    pub log_file: Option<String>,
    /// `--log-file-level`.
    pub log_file_level: Option<String>,
    /// `--retcode-passthrough`.
    pub retcode_passthrough: bool,
    /// `--file-root`.
    pub file_root: Option<String>,
    /// `--pillar-root`.
    pub pillar_root: Option<String>,
    /// `--saltenv`.
    pub saltenv: Option<String>,
    /// `--pillarenv`.
    pub pillarenv: Option<String>,
    /// `--version`.
    pub version: bool,
    /// The function.
    pub fun: Option<String>,
    /// Its arguments (still strings: Salt parses them later).
    pub args: Vec<String>,
}

fn truthy(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(format!("invalid boolean value: '{s}'")),
    }
}

/// Parse the words after `salt-call`.
pub fn parse(argv: &[String]) -> Result<CallOpts, String> {
    let mut o = CallOpts {
        config_dir: "/etc/salt".into(),
        ..Default::default()
    };
    let mut positional: Vec<String> = Vec::new();
    let mut i = 0;
    let mut only_positional = false;
    while i < argv.len() {
        let word = &argv[i];
        i += 1;
        if only_positional || !word.starts_with('-') || word == "-" {
            positional.push(word.clone());
            continue;
        }
        if word == "--" {
            only_positional = true;
            continue;
        }
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if word.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (word.clone(), None),
        };
        // Short options may carry their value attached: `-ldebug`, `-c/etc/salt`.
        let (name, inline) = if !name.starts_with("--") && name.len() > 2 && inline.is_none() {
            (name[..2].to_string(), Some(name[2..].to_string()))
        } else {
            (name, inline)
        };
        let value = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            let v = argv
                .get(*i)
                .cloned()
                .ok_or_else(|| format!("{name} option requires 1 argument"))?;
            *i += 1;
            Ok(v)
        };
        match name.as_str() {
            "-c" | "--config-dir" => o.config_dir = value(&mut i)?,
            "--local" => o.local = true,
            "--id" => o.id = Some(value(&mut i)?),
            "--out" | "--output" => o.out = Some(value(&mut i)?),
            "--out-indent" | "--output-indent" => {
                let v = value(&mut i)?;
                o.out_indent = Some(
                    v.parse()
                        .map_err(|_| format!("option {name}: invalid integer value: '{v}'"))?,
                );
            }
            "--out-file" | "--output-file" => o.out_file = Some(value(&mut i)?),
            "--out-file-append" | "--output-file-append" => o.out_file_append = true,
            "--state-output" | "--state_output" => o.state_output = Some(value(&mut i)?),
            "--state-verbose" | "--state_verbose" => {
                o.state_verbose = Some(truthy(&value(&mut i)?)?)
            }
            "--no-color" | "--no-colour" => o.color = Some(false),
            "--force-color" | "--force-colour" => o.color = Some(true),
            "-l" | "--log-level" => o.log_level = Some(value(&mut i)?),
            "--log-file" => o.log_file = Some(value(&mut i)?),
            "--log-file-level" => o.log_file_level = Some(value(&mut i)?),
            "--retcode-passthrough" => o.retcode_passthrough = true,
            "--file-root" => o.file_root = Some(value(&mut i)?),
            "--pillar-root" => o.pillar_root = Some(value(&mut i)?),
            "--saltenv" => o.saltenv = Some(value(&mut i)?),
            "--pillarenv" => o.pillarenv = Some(value(&mut i)?),
            "--version" | "-V" | "--versions-report" => o.version = true,
            "-g" | "--grains" => {
                if o.fun.is_none() && positional.is_empty() {
                    positional.push("grains.items".into());
                }
            }
            other => return Err(format!("no such option: {other}")),
        }
    }
    let mut it = positional.into_iter();
    o.fun = it.next();
    o.args = it.collect();
    Ok(o)
}

impl CallOpts {
    /// Config keys the command line sets (they win over the files).
    pub fn config_overrides(&self) -> Map {
        let mut m = Map::default();
        if self.local {
            m.insert("file_client".into(), "local".into());
        }
        if let Some(id) = &self.id {
            m.insert("id".into(), id.clone().into());
        }
        let roots = |dir: &str| {
            let mut r = Map::default();
            r.insert(
                "base".into(),
                Value::List(vec![Value::Str(dir.to_string())]),
            );
            Value::Map(r)
        };
        if let Some(d) = &self.file_root {
            m.insert("file_roots".into(), roots(d));
        }
        if let Some(d) = &self.pillar_root {
            m.insert("pillar_roots".into(), roots(d));
        }
        if let Some(s) = &self.saltenv {
            m.insert("saltenv".into(), s.clone().into());
        }
        if let Some(s) = &self.pillarenv {
            m.insert("pillarenv".into(), s.clone().into());
        }
        if let Some(s) = &self.log_file {
            m.insert("log_file".into(), s.clone().into());
        }
        if let Some(s) = &self.log_file_level {
            m.insert("log_level_logfile".into(), s.clone().into());
        }
        if self.retcode_passthrough {
            m.insert("retcode_passthrough".into(), true.into());
        }
        m
    }

    /// Outputter options: the command line over the config (`state_output`, `state_verbose`,
    /// `color`).
    pub fn output_options(&self, cfg: &Map) -> OutputOptions {
        let state_output = self
            .state_output
            .clone()
            .or_else(|| cfg.get("state_output").map(Value::py_str))
            .unwrap_or_else(|| "full".into());
        let state_verbose = self
            .state_verbose
            .unwrap_or_else(|| cfg.get("state_verbose").is_none_or(Value::is_truthy));
        let color = match self.color {
            Some(c) => c,
            None => {
                cfg.get("color").is_none_or(Value::is_truthy)
                    && std::io::IsTerminal::is_terminal(&std::io::stdout())
            }
        };
        OutputOptions {
            state_output,
            state_verbose,
            color,
            indent: self.out_indent,
            ..OutputOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn conformance_command_line() {
        let o = parse(&words(
            "-c /r/etc/salt --local --retcode-passthrough --out=json state.apply web test=True",
        ))
        .unwrap();
        assert_eq!(o.config_dir, "/r/etc/salt");
        assert!(o.local && o.retcode_passthrough);
        assert_eq!(o.out.as_deref(), Some("json"));
        assert_eq!(o.fun.as_deref(), Some("state.apply"));
        assert_eq!(o.args, vec!["web".to_string(), "test=True".to_string()]);
    }

    #[test]
    fn options_after_the_function_and_short_forms() {
        let o = parse(&words("test.ping -ldebug --state-verbose=False --no-color")).unwrap();
        assert_eq!(o.log_level.as_deref(), Some("debug"));
        assert_eq!(o.state_verbose, Some(false));
        assert_eq!(o.color, Some(false));
        assert_eq!(o.fun.as_deref(), Some("test.ping"));
    }

    #[test]
    fn unknown_option_is_an_error() {
        assert!(parse(&words("--bogus test.ping")).is_err());
    }
}
