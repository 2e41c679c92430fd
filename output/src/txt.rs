//! Salt's `txt` outputter: `key: line` for every line of a string value, `key: str(value)`
//! for anything else (Python's `repr` for containers).

use crate::pprint::pformat;
use crate::pytext::{py_bytes_splitlines, py_splitlines};
use halite_core::Value;

/// Render `data` as Salt's txt outputter does.
pub fn output(data: &Value) -> String {
    let mut ret = String::new();
    match data {
        Value::Map(map) => {
            for (key, value) in map {
                let key = key.py_str();
                match value {
                    Value::Str(s) => {
                        for line in py_splitlines(s) {
                            ret.push_str(&format!("{key}: {line}\n"));
                        }
                    }
                    Value::Bytes(b) => {
                        for line in py_bytes_splitlines(b) {
                            let line = Value::Bytes(line.to_vec()).py_repr();
                            ret.push_str(&format!("{key}: {line}\n"));
                        }
                    }
                    other => ret.push_str(&format!("{key}: {}\n", other.py_str())),
                }
            }
        }
        Value::Str(s) => {
            ret.push_str(s);
            ret.push('\n');
        }
        other => {
            ret.push_str(&pformat(other));
            ret.push('\n');
        }
    }
    ret
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn lines_and_reprs() {
        let v = Value::Map(map! {
            "local" => "a\nb",
            "other" => Value::Map(map! {"k" => Value::List(vec![Value::Null, true.into()])}),
            "empty" => "",
        });
        assert_eq!(
            output(&v),
            "local: a\nlocal: b\nother: {'k': [None, True]}\n"
        );
    }

    #[test]
    fn non_mapping_data() {
        assert_eq!(output(&Value::from("x")), "x\n");
        assert_eq!(output(&Value::Int(3)), "3\n");
    }
}
