//! Salt's `yaml` outputter: `salt.utils.yaml.safe_dump(data, default_flow_style=False)`
//! (keys sorted, unicode kept), written by [`halite_core::yaml_emit::dump`].
//!
//! `--out-indent N`: `N >= 0` sets the indentation step (libyaml ignores values outside
//! 2..=9); a negative `N` gives the flow (one-line) form.

use halite_core::yaml_emit::{dump, DumpOptions};
use halite_core::Value;

/// The dumper options Salt's yaml outputter passes.
fn dump_options(out_indent: Option<i64>) -> DumpOptions {
    let (flow, indent) = match out_indent {
        None => (false, 2),
        Some(n) if n < 0 => (true, 0),
        Some(n) => (false, usize::try_from(n).unwrap_or(2)),
    };
    DumpOptions {
        default_flow_style: Some(flow),
        sort_keys: true,
        indent,
        allow_unicode: true,
        ..DumpOptions::default()
    }
}

/// Render `data` as Salt's yaml outputter does.
pub fn output(data: &Value, out_indent: Option<i64>) -> String {
    dump(data, &dump_options(out_indent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn block_and_flow_forms() {
        let v = Value::Map(map! {"local" => Value::Map(map! {"os" => "Debian", "id" => "node1"})});
        assert_eq!(output(&v, None), "local:\n  id: node1\n  os: Debian\n");
        assert_eq!(output(&v, Some(-1)), "{local: {id: node1, os: Debian}}\n");
    }
}
