//! Salt's `highstate` outputter (`salt/output/highstate.py`): the state-run report.
//!
//! Per host: a `host:` line, then one block per state in `__run_num__` order (full,
//! terse, mixed or changes form, see [`crate::OutputOptions::state_output`]), then the
//! `Summary for host` block. A list return is a compile-error report (`Data failed to
//! compile:`), a string return is printed line by line.
//!
//! Where Salt's outputter raises `KeyError`/`AttributeError`/`TypeError` (data that is
//! not a state return), Salt falls back to the nested outputter; this module reports
//! that as [`Failure::Fallback`] and the caller does the same.

use crate::colors::{strip_esc, Palette};
use crate::nested::Nested;
use crate::pprint::pformat;
use crate::pyformat::{py_format, Arg};
use crate::pytext::{is_py_space, py_sorted_order, py_splitlines, py_strip};
use crate::textwrap::fill;
use crate::OutputOptions;
use halite_core::Value;

/// Why the highstate outputter could not produce text.
#[derive(Debug)]
pub enum Failure {
    /// Python raised an exception Salt's `try_printout` catches: print the data with
    /// the nested outputter instead.
    Fallback,
    /// Python raised an exception Salt does not catch (the message says which).
    Crash(String),
}

type Outcome<T> = Result<T, Failure>;

const STATE_ORCH_NAMES: [&str; 3] = ["state.orch", "state.orchestrate", "state.sls"];
const CHANGES_INDENT: usize = 14;

fn index_error() -> Failure {
    Failure::Crash("IndexError: list index out of range".into())
}

/// The highstate formatter with its options and colours.
pub struct Highstate<'a> {
    opts: &'a OutputOptions,
    colors: Palette,
    state_output: String,
}

impl<'a> Highstate<'a> {
    /// A formatter for these options.
    pub fn new(opts: &'a OutputOptions) -> Self {
        Highstate {
            opts,
            colors: Palette::new(opts.color),
            state_output: opts.state_output.to_lowercase(),
        }
    }

    /// `highstate.output(data)`: the report (not yet right-stripped).
    ///
    /// Like Salt's, it edits the data as it goes (non-text comments become text, a
    /// `Duration` gets its ` ms`, a lone orchestration `retcode` is dropped), which is
    /// visible when the caller falls back to the nested outputter with the same data.
    pub fn output(&self, data: &mut Value) -> Outcome<String> {
        self.output_at(data, 1)
    }

    fn output_at(&self, data: &mut Value, indent_level: usize) -> Outcome<String> {
        let path = envelope_path(data)?;
        let mut data = data;
        for key in &path {
            match data {
                Value::Map(m) => match m.get_mut(key) {
                    Some(inner) => data = inner,
                    None => return Err(Failure::Fallback),
                },
                _ => return Err(Failure::Fallback),
            }
        }
        let map = match data {
            Value::Str(s) => return Ok(s.clone()),
            Value::Null => return Ok("None".into()),
            Value::Map(m) => m,
            // An int is returned as is (and `.rstrip()` then fails); other types have no `.keys()`.
            _ => return Err(Failure::Fallback),
        };
        let mut masters = 0;
        for key in map.keys() {
            let key = key.as_str().ok_or(Failure::Fallback)?;
            if key.ends_with("_master") {
                masters += 1;
            }
        }
        if map.contains_key("retcode") && masters == 1 {
            map.shift_remove("retcode");
        }
        let mut hosts = Vec::with_capacity(map.len());
        for (host, hostdata) in map.iter_mut() {
            hosts.push(self.format_host(host, hostdata, indent_level)?.0);
        }
        Ok(hosts.join("\n"))
    }

    /// `_format_host`: one host's report and whether anything changed.
    fn format_host(
        &self,
        host: &Value,
        data: &mut Value,
        indent_level: usize,
    ) -> Outcome<(String, bool)> {
        let c = &self.colors;
        let host = match host {
            Value::Bytes(b) => match std::str::from_utf8(b) {
                Ok(s) => s.to_string(),
                Err(_) => host.py_str(),
            },
            other => other.py_str(),
        };
        let mut hcolor = c.green;
        let mut hstrs: Vec<String> = Vec::new();
        let mut nchanges = 0usize;
        match data {
            Value::Int(_) | Value::Bool(_) => {
                nchanges = 1;
                hstrs.push(format!("{hcolor}    {}{}", (*data).py_str(), c.endc));
                hcolor = c.cyan;
            }
            Value::Str(s) => {
                nchanges = 1;
                for line in py_splitlines(s) {
                    hstrs.push(format!("{hcolor}    {line}{}", c.endc));
                }
                hcolor = c.cyan;
            }
            Value::List(errors) => {
                hcolor = c.light_red;
                hstrs.push(format!("    {hcolor}Data failed to compile:{}", c.endc));
                for err in errors {
                    let text = match err {
                        Value::Str(s) => strip_esc(s).into_owned(),
                        Value::Bytes(b) => match std::str::from_utf8(b) {
                            Ok(s) => strip_esc(s).into_owned(),
                            Err(_) => err.py_str(),
                        },
                        other => other.py_str(),
                    };
                    hstrs.push(format!("{hcolor}----------\n    {text}{}", c.endc));
                }
            }
            Value::Map(states) => {
                let mut run = StateRun::default();
                self.format_states(states, indent_level, &mut hstrs, &mut hcolor, &mut run)?;
                nchanges = run.nchanges;
                self.summary(&host, &run, &mut hstrs);
            }
            _ => {}
        }
        hstrs.insert(0, format!("{hcolor}{}:{}", strip_esc(&host), c.endc));
        Ok((hstrs.join("\n"), nchanges > 0))
    }

    fn format_states(
        &self,
        states: &mut halite_core::Map,
        indent_level: usize,
        hstrs: &mut Vec<String>,
        hcolor: &mut &'static str,
        run: &mut StateRun,
    ) -> Outcome<()> {
        let c = &self.colors;
        let mut kept: Vec<usize> = Vec::new();
        for (position, (tname, info)) in states.iter().enumerate() {
            if let Value::Map(info) = info {
                if tname.as_str() != Some("changes")
                    && !info.is_empty()
                    && !info.contains_key("__run_num__")
                {
                    hstrs.insert(0, pformat(&Value::Map(info.clone())));
                    hstrs.insert(
                        0,
                        "The State execution failed to record the order in which all states were executed. \
                         The state return missing data is:"
                            .to_string(),
                    );
                }
                if info.contains_key("result") {
                    kept.push(position);
                }
            }
        }
        let zero = Value::Int(0);
        let run_nums: Vec<&Value> = kept
            .iter()
            .filter_map(|&p| states.get_index(p))
            .map(|(_, info)| info.get("__run_num__").unwrap_or(&zero))
            .collect();
        let order = py_sorted_order(&run_nums).ok_or(Failure::Fallback)?;
        for index in order {
            let Some((tname, Value::Map(ret))) = states.get_index_mut(kept[index]) else {
                continue;
            };
            let tname = tname.as_str().map(str::to_owned);
            let result = ret.get("result").cloned().unwrap_or_default();
            let result = &result;
            run.count_result(result)?;
            let duration = ret.get("duration").unwrap_or(&zero);
            if let Some(ms) = parse_duration(duration)? {
                if ret.contains_key("__parallel__") {
                    run.pdurations.push(ms);
                } else {
                    run.rdurations.push(ms);
                }
            }
            let is_orch = ret
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| STATE_ORCH_NAMES.contains(&n));
            let changes = ret.get_mut("changes").ok_or(Failure::Fallback)?;
            let (schanged, ctext) = if is_orch {
                let nested = match changes {
                    Value::Int(_) | Value::Bool(_) => return Err(Failure::Fallback),
                    _ => self.output_at(changes, indent_level + 1)?,
                };
                let pad = " ".repeat(CHANGES_INDENT * indent_level);
                let text = format!("\n{nested}");
                let prefixed: Vec<String> = text.split('\n').map(|l| format!("{pad}{l}")).collect();
                (true, prefixed.join("\n"))
            } else {
                self.format_changes(changes)?
            };
            if schanged {
                run.nchanges += 1;
            }
            let truthy = result.is_truthy();
            if self.opts.state_output_diff && truthy && !schanged {
                continue;
            }
            if !self.opts.state_verbose && truthy && !schanged {
                continue;
            }
            let mut tcolor = c.green;
            if schanged {
                tcolor = c.cyan;
            }
            if matches!(result, Value::Bool(false)) {
                *hcolor = c.red;
                tcolor = c.red;
            }
            if result.is_null() {
                *hcolor = c.light_yellow;
                tcolor = c.light_yellow;
            }
            let tname = tname.as_deref().ok_or(Failure::Fallback)?;
            let mut comps: Vec<&str> = tname.split("_|-").collect();
            let mode = self.state_output.as_str();
            if mode.ends_with("_id") {
                let id = *comps.get(1).ok_or_else(index_error)?;
                *comps.get_mut(2).ok_or_else(index_error)? = id;
            }
            let terse = if mode.starts_with("filter") {
                // No exclude/terse filters are configured: every state shows in full.
                false
            } else {
                mode.starts_with("terse")
                    || (mode.starts_with("mixed") && !matches!(result, Value::Bool(false)))
                    || (mode.starts_with("changes") && truthy && !schanged)
            };
            if terse {
                hstrs.push(self.format_terse(tcolor, &comps, ret)?);
                continue;
            }
            self.format_full(tcolor, &comps, ret, &ctext, hstrs, run)?;
        }
        Ok(())
    }

    fn format_full(
        &self,
        tcolor: &str,
        comps: &[&str],
        ret: &mut halite_core::Map,
        ctext: &str,
        hstrs: &mut Vec<String>,
        run: &mut StateRun,
    ) -> Outcome<()> {
        let c = &self.colors;
        let endc = c.endc;
        if comps.len() < 4 {
            return Err(index_error());
        }
        let comment = ret.get("comment").ok_or(Failure::Fallback)?.py_str();
        if !matches!(ret.get("comment"), Some(Value::Str(_))) {
            ret.insert(Value::from("comment"), Value::from(comment.as_str()));
        }
        let indent_nl = format!("\n{}", " ".repeat(CHANGES_INDENT));
        let mut comment = py_strip(&comment).replace('\n', &indent_nl);
        match ret.get("data") {
            None => {}
            Some(Value::List(items)) => {
                for item in items {
                    comment = format!("{comment} {}", item.py_str());
                }
            }
            Some(Value::Map(m)) => {
                for (k, v) in m {
                    comment = format!("{comment}\n\t\t{}: {}", k.py_str(), v.py_str());
                }
            }
            Some(other) => comment = format!("{comment} {}", other.py_str()),
        }
        let show_times = self.opts.state_output_profile && ret.contains_key("start_time");
        for detail in ["start_time", "duration"] {
            if !ret.contains_key(detail) {
                ret.insert(Value::from(detail), Value::from(""));
            }
        }
        if let Some(duration) = ret.get_mut("duration") {
            if duration.as_str() != Some("") {
                *duration = Value::Str(format!("{} ms", duration.py_str()));
            }
        }
        let result = ret.get("result").unwrap_or(&Value::Null);
        let mut lines = vec![
            format!("{tcolor}----------{endc}"),
            format!("    {tcolor}      ID: {}{endc}", comps[1]),
            format!("    {tcolor}Function: {}.{}{endc}", comps[0], comps[3]),
        ];
        if comps[1] != comps[2] {
            lines.push(format!("    {tcolor}    Name: {}{endc}", comps[2]));
        }
        lines.push(format!("    {tcolor}  Result: {}{endc}", result.py_str()));
        lines.push(format!("    {tcolor} Comment: {comment}{endc}"));
        if show_times {
            let shown = |key: &str| ret.get(key).map(Value::py_str).unwrap_or_default();
            lines.push(format!(
                "    {tcolor} Started: {}{endc}",
                shown("start_time")
            ));
            lines.push(format!("    {tcolor}Duration: {}{endc}", shown("duration")));
        }
        hstrs.extend(lines);
        hstrs.push(format!("{tcolor}     Changes:   {ctext}{endc}"));
        if let Some(warnings) = ret.get("warnings") {
            run.warnings += 1;
            let text = join_lines(warnings)?;
            let pad = " ".repeat(CHANGES_INDENT);
            let wrapped = fill(&text, 80, &pad, &pad);
            hstrs.push(format!(
                "   {} Warnings: {}{endc}",
                c.light_red,
                wrapped.trim_start_matches(is_py_space)
            ));
        }
        Ok(())
    }

    /// `_format_terse`: the one-line form of a state.
    fn format_terse(
        &self,
        tcolor: &str,
        comps: &[&str],
        ret: &halite_core::Map,
    ) -> Outcome<String> {
        let c = &self.colors;
        let changed = ret.get("changes").is_some_and(Value::is_truthy);
        let result = match ret.get("result") {
            Some(Value::Bool(false)) => "Failed",
            Some(Value::Null) => "Differs",
            _ if changed => "Changed",
            _ => "Clean",
        };
        let name = *comps.get(2).ok_or_else(index_error)?;
        let function = comps.last().copied().unwrap_or_default();
        // Salt builds a format string (warnings pasted in verbatim) and formats it.
        let mut fmt = String::new();
        if let Some(warnings) = ret.get("warnings") {
            fmt.push_str(&format!(
                "{}Warnings:\n{}{}",
                c.light_red,
                join_lines(warnings)?,
                c.endc
            ));
            if self.opts.state_tabular {
                fmt.push('\n');
            }
        }
        let profile = self.opts.state_output_profile && ret.contains_key("start_time");
        if self.opts.state_tabular {
            fmt.push_str("{0}");
            if profile {
                fmt.push_str("{6[start_time]!s} [{6[duration]!s:>7} ms] ");
            }
            fmt.push_str("{2:>10}.{3:<10} {4:7}   Name: {1}{5}");
        } else {
            fmt.push_str(" {0} Name: {1} - Function: {2}.{3} - Result: {4}");
            if profile {
                fmt.push_str(" - Started: {6[start_time]!s} - Duration: {6[duration]!s} ms");
            }
            fmt.push_str("{5}");
        }
        let args = [
            Arg::Text(tcolor),
            Arg::Text(name),
            Arg::Text(comps[0]),
            Arg::Text(function),
            Arg::Text(result),
            Arg::Text(c.endc),
            Arg::Map(ret),
        ];
        py_format(&fmt, &args)
    }

    /// `_format_changes`: whether the state changed something, and the text after `Changes:`.
    fn format_changes(&self, changes: &mut Value) -> Outcome<(bool, String)> {
        if !changes.is_truthy() {
            return Ok((false, String::new()));
        }
        let Value::Map(map) = changes else {
            return Ok((true, format!("Invalid Changes data: {}", changes.py_str())));
        };
        let has_ret = map.get("ret").is_some_and(|r| !r.is_null());
        let out_highstate = map.get("out").and_then(Value::as_str) == Some("highstate");
        if has_ret && out_highstate {
            let Some(Value::Map(hosts)) = map.get_mut("ret") else {
                return Err(Failure::Fallback);
            };
            let mut ctext = String::new();
            let mut changed = false;
            let pad = " ".repeat(CHANGES_INDENT);
            for (host, hostdata) in hosts.iter_mut() {
                let (text, host_changed) = self.format_host(host, hostdata, 1)?;
                ctext.push('\n');
                let lines: Vec<String> = py_splitlines(&text)
                    .into_iter()
                    .map(|l| format!("{pad}{l}"))
                    .collect();
                ctext.push_str(&lines.join("\n"));
                changed = changed || host_changed;
            }
            return Ok((changed, ctext));
        }
        let nested = Nested::new(&self.colors, 0).output(&*changes, CHANGES_INDENT);
        Ok((true, format!("\n{}", crate::pytext::py_rstrip(&nested))))
    }

    /// The `Summary for host` block.
    fn summary(&self, host: &str, run: &StateRun, hstrs: &mut Vec<String>) {
        let c = &self.colors;
        let endc = c.endc;
        let count_max_len = run
            .all_counts()
            .map(|n| n.to_string().len())
            .max()
            .unwrap_or(0);
        let label_max_len = "Succeeded".len();
        let line_max_len = label_max_len + count_max_len + 2;
        let counts = |label: &str, count: String| {
            let width = line_max_len.saturating_sub(label.len() + 2);
            format!("{label}: {count:>width$}")
        };
        let dashes = "-".repeat(line_max_len);
        hstrs.push(format!("{}\nSummary for {host}\n{dashes}{endc}", c.cyan));
        let mut changestats = Vec::new();
        if run.not_run > 0 {
            changestats.push(format!("{}unchanged={}{endc}", c.light_yellow, run.not_run));
        }
        if run.nchanges > 0 {
            changestats.push(format!("{}changed={}{endc}", c.green, run.nchanges));
        }
        let changestats = if changestats.is_empty() {
            String::new()
        } else {
            format!(" ({})", changestats.join(", "))
        };
        hstrs.push(format!(
            "{}{}{endc}{changestats}",
            c.green,
            counts("Succeeded", (run.succeeded + run.not_run).to_string())
        ));
        let failed_color = if run.failed > 0 { c.red } else { c.cyan };
        hstrs.push(format!(
            "{failed_color}{}{endc}",
            counts("Failed", run.failed.to_string())
        ));
        if run.warnings > 0 {
            hstrs.push(format!(
                "{}{}{endc}",
                c.light_red,
                counts("Warnings", run.warnings.to_string())
            ));
        }
        let total = run.all_counts().sum::<usize>() - run.warnings;
        let total_width = line_max_len.saturating_sub(7);
        hstrs.push(format!(
            "{}{dashes}\nTotal states run: {total:>total_width$}{endc}",
            c.cyan
        ));
        if self.opts.state_output_profile {
            let mut sum: f64 = run.rdurations.iter().fold(0.0, |a, b| a + b);
            if let Some(max) = run.pdurations.iter().copied().reduce(f64::max) {
                sum += max;
            }
            let mut unit = "ms";
            if sum > 999.0 {
                sum /= 1000.0;
                unit = "s";
            }
            let width = line_max_len.saturating_sub(5);
            let text = format!("{sum:.3}");
            hstrs.push(format!(
                "{}Total run time: {text:>width$} {unit}{endc}",
                c.cyan
            ));
        }
    }
}

/// The envelope unwrapping Salt's highstate `output()` does first (`return`, `data`,
/// and a single job return carrying `jid` and `fun`): the keys to descend through.
fn envelope_path(data: &Value) -> Outcome<Vec<Value>> {
    let mut path = Vec::new();
    let mut data = data;
    for key in ["return", "data"] {
        if let Some(inner) = data.get(key) {
            path.push(Value::from(key));
            data = inner;
        }
    }
    if let Value::Map(m) = data {
        if m.len() == 1 {
            if let Some((host, job @ Value::Map(jm))) = m.get_index(0) {
                if jm.contains_key("jid") && jm.contains_key("fun") {
                    match job.get("return") {
                        None => {}
                        Some(Value::Map(r)) if r.contains_key("data") => {
                            path.extend([host.clone(), Value::from("return"), Value::from("data")]);
                        }
                        Some(Value::Map(_)) => {}
                        Some(_) => return Err(Failure::Fallback),
                    }
                }
            }
        }
    }
    Ok(path)
}

/// Python's `"\n".join(warnings)`.
fn join_lines(warnings: &Value) -> Outcome<String> {
    match warnings {
        Value::List(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                parts.push(item.as_str().ok_or(Failure::Fallback)?);
            }
            Ok(parts.join("\n"))
        }
        Value::Str(s) => Ok(s.chars().map(String::from).collect::<Vec<_>>().join("\n")),
        _ => Err(Failure::Fallback),
    }
}

/// `float(duration)`, retried on the part before `" ms"`; `None` when it is text
/// that is no number (Salt logs it and goes on).
fn parse_duration(duration: &Value) -> Outcome<Option<f64>> {
    let text = match duration {
        Value::Int(i) => return Ok(Some(*i as f64)),
        Value::Float(f) => return Ok(Some(*f)),
        Value::Bool(b) => return Ok(Some(f64::from(u8::from(*b)))),
        Value::Str(s) => s.as_str(),
        Value::Bytes(b) => std::str::from_utf8(b).map_err(|_| Failure::Fallback)?,
        _ => return Err(Failure::Fallback),
    };
    let parse = |s: &str| py_strip(s).replace('_', "").parse::<f64>().ok();
    Ok(parse(text).or_else(|| parse(text.split(" ms").next().unwrap_or_default())))
}

/// The tallies of one host's state run.
#[derive(Default)]
struct StateRun {
    succeeded: usize,
    failed: usize,
    not_run: usize,
    warnings: usize,
    /// Results other than True/False/None, counted per distinct value.
    other: Vec<(Value, usize)>,
    nchanges: usize,
    rdurations: Vec<f64>,
    pdurations: Vec<f64>,
}

impl StateRun {
    /// `rcounts[result] += 1`, with Python's key equality (`1 == True`).
    fn count_result(&mut self, result: &Value) -> Outcome<()> {
        match result {
            Value::Bool(true) | Value::Int(1) => self.succeeded += 1,
            Value::Bool(false) | Value::Int(0) => self.failed += 1,
            Value::Float(f) if *f == 1.0 => self.succeeded += 1,
            Value::Float(f) if *f == 0.0 => self.failed += 1,
            Value::Null => self.not_run += 1,
            Value::List(_) | Value::Map(_) => return Err(Failure::Fallback),
            Value::Str(s) if s == "warnings" => self.warnings += 1,
            other => match self.other.iter_mut().find(|(v, _)| v == other) {
                Some((_, n)) => *n += 1,
                None => self.other.push((other.clone(), 1)),
            },
        }
        Ok(())
    }

    /// Every non-empty bucket of `rcounts`.
    fn all_counts(&self) -> impl Iterator<Item = usize> + '_ {
        [self.succeeded, self.failed, self.not_run, self.warnings]
            .into_iter()
            .filter(|&n| n > 0)
            .chain(self.other.iter().map(|(_, n)| *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_python_float() {
        assert_eq!(
            parse_duration(&Value::from(" 2.5 ")).ok().flatten(),
            Some(2.5)
        );
        assert_eq!(
            parse_duration(&Value::from("3 ms")).ok().flatten(),
            Some(3.0)
        );
        assert_eq!(parse_duration(&Value::from("n/a")).ok().flatten(), None);
        assert!(parse_duration(&Value::Null).is_err());
    }
}
