//! Salt's `nested` outputter (`salt/output/nested.py`): the default for execution
//! functions and the renderer of the highstate `Changes:` block.
//!
//! Mappings print a `----------` line (except at indent 0) and then their keys in
//! Python `sorted()` order, each value four columns deeper; lists print `- item`
//! (nested containers under a `|_` line, two columns deeper); strings print one
//! line per `splitlines()` line; `None`/`True`/`False` and numbers print as Python
//! shows them.

use crate::colors::{strip_esc, Palette};
use crate::pytext::{py_splitlines, sorted_entries};
use halite_core::Value;

/// The nested display of one value.
pub struct Nested<'a> {
    colors: &'a Palette,
    /// Salt's `_retcode`: non-zero turns structure colours red.
    retcode: i64,
}

impl<'a> Nested<'a> {
    /// A display with these colours and the call's return code.
    pub fn new(colors: &'a Palette, retcode: i64) -> Self {
        Nested { colors, retcode }
    }

    /// `nested.output(data, nested_indent=base_indent)`: the lines joined by `\n`
    /// (not yet right-stripped).
    pub fn output(&self, data: &Value, base_indent: usize) -> String {
        let mut out = Vec::new();
        self.display(data, base_indent, "", &mut out);
        out.join("\n")
    }

    fn line(&self, indent: usize, color: &str, prefix: &str, msg: &str, suffix: &str) -> String {
        let mut s = String::with_capacity(indent + msg.len() + 16);
        s.extend(std::iter::repeat_n(' ', indent));
        s.push_str(color);
        s.push_str(prefix);
        s.push_str(msg);
        s.push_str(self.colors.endc);
        s.push_str(suffix);
        s
    }

    fn structure_color(&self, normal: &'static str) -> &'static str {
        if self.retcode != 0 {
            self.colors.red
        } else {
            normal
        }
    }

    fn display_text(&self, text: &str, indent: usize, prefix: &str, out: &mut Vec<String>) {
        let blank_prefix = " ".repeat(prefix.chars().count());
        for (i, line) in py_splitlines(text).into_iter().enumerate() {
            let line_prefix = if i == 0 { prefix } else { &blank_prefix };
            out.push(self.line(indent, self.colors.green, line_prefix, &strip_esc(line), ""));
        }
    }

    fn display(&self, value: &Value, indent: usize, prefix: &str, out: &mut Vec<String>) {
        match value {
            Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                out.push(self.line(
                    indent,
                    self.colors.light_yellow,
                    prefix,
                    &value.py_repr(),
                    "",
                ));
            }
            Value::Str(s) => self.display_text(s, indent, prefix, out),
            Value::Bytes(b) => {
                // Salt decodes bytes as UTF-8; undecodable bytes print nothing.
                if let Ok(s) = std::str::from_utf8(b) {
                    self.display_text(s, indent, prefix, out);
                }
            }
            Value::List(items) => {
                let color = self.structure_color(self.colors.green);
                for item in items {
                    match item {
                        Value::List(_) => {
                            out.push(self.line(indent, color, "", "|_", ""));
                            self.display(item, indent + 2, "- ", out);
                        }
                        Value::Map(_) => {
                            out.push(self.line(indent, color, "", "|_", ""));
                            self.display(item, indent + 2, "", out);
                        }
                        _ => self.display(item, indent, "- ", out),
                    }
                }
            }
            Value::Map(map) => {
                let color = self.structure_color(self.colors.cyan);
                if indent > 0 {
                    out.push(self.line(indent, color, "", "----------", ""));
                }
                for (key, val) in sorted_entries(map) {
                    out.push(self.line(indent, color, prefix, &key, ":"));
                    self.display(val, indent + 4, "", out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    fn plain(v: &Value, indent: usize) -> String {
        Nested::new(&Palette::new(false), 0).output(v, indent)
    }

    #[test]
    fn sorted_keys_and_scalars() {
        let v = Value::Map(map! {
            "local" => Value::Map(map! {
                "z" => Value::Null,
                "a" => Value::List(vec![Value::Int(1), Value::from("x\ny")]),
                "e" => Value::map(),
                "s" => "",
            })
        });
        assert_eq!(
            plain(&v, 0),
            "local:\n    ----------\n    a:\n        - 1\n        - x\n          y\n    e:\n        ----------\n    s:\n    z:\n        None"
        );
    }

    #[test]
    fn lists_of_containers_use_pipe_lines() {
        let v = Value::List(vec![
            Value::List(vec![Value::Int(2)]),
            Value::Map(map! {"b" => true}),
        ]);
        assert_eq!(
            plain(&v, 0),
            "|_\n  - 2\n|_\n  ----------\n  b:\n      True"
        );
    }

    #[test]
    fn colours_and_retcode() {
        let colors = Palette::new(true);
        let v = Value::Map(map! {"k" => Value::List(vec![Value::List(vec![])])});
        let ok = Nested::new(&colors, 0).output(&v, 0);
        assert_eq!(ok, "\x1b[0;36mk\x1b[0;0m:\n    \x1b[0;32m|_\x1b[0;0m");
        let failed = Nested::new(&colors, 1).output(&v, 0);
        assert_eq!(failed, "\x1b[0;31mk\x1b[0;0m:\n    \x1b[0;31m|_\x1b[0;0m");
    }
}
