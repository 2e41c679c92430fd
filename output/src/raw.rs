//! Salt's `raw` outputter: `str(data)`, Python's repr of the whole return.

use halite_core::Value;

/// Render `data` as Salt's raw outputter does.
pub fn output(data: &Value) -> String {
    data.py_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn python_repr() {
        let v = Value::Map(map! {"local" => Value::List(vec![Value::Float(1.0), Value::Null])});
        assert_eq!(output(&v), "{'local': [1.0, None]}");
        assert_eq!(output(&Value::from("plain")), "plain");
    }
}
