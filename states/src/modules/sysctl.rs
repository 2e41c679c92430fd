//! `sysctl.present` (salt/states/sysctl.py): a kernel parameter set in the running kernel
//! and persisted in a configuration file (`/etc/sysctl.d/99-salt.conf` on systemd ≥ 207
//! hosts, else `/etc/sysctl.conf`, or `config`).

use super::{ret, Registry, StateCall};
use crate::exec::sysctl::{self, ConfigView, Persisted};
use halite_core::{Error, Map, Result, Value};

/// Register the `sysctl` module.
pub fn register(r: &mut Registry) {
    r.add("sysctl.present", present);
}

/// The test-mode verdict of `sysctl.present`, from the configuration file's view and the
/// running value (`sysctl -n` output): Salt's order of checks and texts.
///
/// NB (as Salt): with the key in the file, the wanted value is compared with the
/// **running** value only (whitespace-insensitive), not with the file's.
pub fn test_verdict(
    name: &str,
    value: &str,
    config: &str,
    view: &ConfigView,
    current: Option<&str>,
) -> (Option<bool>, String) {
    let entries = match view {
        ConfigView::Unreadable => {
            return (
                None,
                format!(
                    "Sysctl option {name} might be changed, we failed to check config file at {config}. The file is either unreadable, or missing."
                ),
            )
        }
        ConfigView::Missing => None,
        ConfigView::Entries(m) => Some(m),
    };
    let in_config = entries.is_some_and(|m| m.contains_key(name));
    let current = current.unwrap_or("");
    if !current.is_empty() {
        if in_config {
            if crate::exec::pystr::py_split(value) == crate::exec::pystr::py_split(current) {
                return (
                    Some(true),
                    format!("Sysctl value {name} = {value} is already set"),
                );
            }
        } else if sysctl::squash_blanks(current) != sysctl::squash_blanks(value) {
            return (
                None,
                format!("Sysctl option {name} set to be changed to {value}"),
            );
        } else {
            return (
                None,
                format!(
                    "Sysctl value is currently set on the running system but not in a config file. Sysctl option {name} set to be changed to {value} in config file."
                ),
            );
        }
    } else if in_config {
        return (
            None,
            format!(
                "Sysctl value {name} is present in configuration file but is not present in the running config. The value {name} is set to be changed to {value}"
            ),
        );
    }
    (
        None,
        format!("Sysctl option {name} would be changed to {value}"),
    )
}

/// `sysctl.present(name, value, config=None)`.
fn present(c: &StateCall) -> Result<Map> {
    let name = c.name();
    let value_v = c.arg("value").cloned().unwrap_or(Value::Null);
    let value = value_v.py_str();
    let config = match c.arg("config") {
        None | Some(Value::Null) => sysctl::default_config()?,
        Some(v) => v.py_str(),
    };
    if c.test {
        let view = sysctl::show(&config)?;
        if matches!(view, ConfigView::Unreadable) {
            let (result, comment) = test_verdict(&name, &value, &config, &view, None);
            return Ok(ret(&name, Map::default(), result, comment));
        }
        // Salt lets a failing `sysctl -n` (no `sysctl` binary) through as an exception.
        let current = sysctl::get(&name)?;
        let (result, comment) = test_verdict(&name, &value, &config, &view, Some(&current));
        return Ok(ret(&name, Map::default(), result, comment));
    }
    match sysctl::persist(&name, &value, &config) {
        Ok(Persisted::Updated) => {
            let mut changes = Map::default();
            changes.insert(Value::Str(name.clone()), value_v);
            Ok(ret(
                &name,
                changes,
                Some(true),
                format!("Updated sysctl value {name} = {value}"),
            ))
        }
        Ok(Persisted::AlreadySet) => Ok(ret(
            &name,
            Map::default(),
            Some(true),
            format!("Sysctl value {name} = {value} is already set"),
        )),
        Err(Error::CommandExecution(msg)) => Ok(ret(
            &name,
            Map::default(),
            Some(false),
            format!("Failed to set {name} to {value}: {msg}"),
        )),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn view(pairs: &[(&str, &str)]) -> ConfigView {
        ConfigView::Entries(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect::<IndexMap<_, _>>(),
        )
    }

    #[test]
    fn test_mode_verdicts() {
        let cfg = "/tmp/x.conf";
        let v = |view: &ConfigView, cur: &str, want: &str| {
            test_verdict("k", want, cfg, view, Some(cur))
        };
        // In the file: compared with the running value, whitespace-insensitively.
        assert_eq!(
            v(&view(&[("k", "9")]), "1\t2", "1 2"),
            (Some(true), "Sysctl value k = 1 2 is already set".into())
        );
        assert_eq!(
            v(&view(&[("k", "1")]), "2", "1"),
            (None, "Sysctl option k would be changed to 1".into())
        );
        // Not in the file.
        assert_eq!(
            v(&ConfigView::Missing, "0", "1"),
            (None, "Sysctl option k set to be changed to 1".into())
        );
        assert_eq!(
            v(&view(&[]), "1\t2", "1 2").1,
            "Sysctl value is currently set on the running system but not in a config file. Sysctl option k set to be changed to 1 2 in config file."
        );
        // No running value.
        assert_eq!(
            v(&view(&[("k", "1")]), "", "1").1,
            "Sysctl value k is present in configuration file but is not present in the running config. The value k is set to be changed to 1"
        );
        assert_eq!(
            v(&ConfigView::Missing, "", "1").1,
            "Sysctl option k would be changed to 1"
        );
        assert_eq!(
            test_verdict("k", "1", cfg, &ConfigView::Unreadable, None),
            (
                None,
                "Sysctl option k might be changed, we failed to check config file at /tmp/x.conf. The file is either unreadable, or missing.".into()
            )
        );
    }
}
