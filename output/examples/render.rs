//! Render JSON data from stdin with one outputter, for comparing with real Salt:
//! `render <outputter> [options-json] < data.json`, where options-json sets
//! [`OutputOptions`] fields (`{"color": true, "state_output": "terse", ...}`) and `retcode`.

use halite_output::{render_with_retcode, OutputOptions};
use std::io::Read;

fn main() {
    let mut args = std::env::args().skip(1);
    let outputter = args.next().unwrap_or_else(|| "nested".into());
    let mut opts = OutputOptions::default();
    let mut retcode = 0;
    if let Some(raw) = args.next() {
        let Ok(serde_json::Value::Object(o)) = serde_json::from_str::<serde_json::Value>(&raw)
        else {
            eprintln!("options must be a JSON object");
            std::process::exit(2);
        };
        for (k, v) in o {
            match (k.as_str(), v) {
                ("color", serde_json::Value::Bool(b)) => opts.color = b,
                ("state_verbose", serde_json::Value::Bool(b)) => opts.state_verbose = b,
                ("state_output_diff", serde_json::Value::Bool(b)) => opts.state_output_diff = b,
                ("state_tabular", serde_json::Value::Bool(b)) => opts.state_tabular = b,
                ("state_output_profile", serde_json::Value::Bool(b)) => {
                    opts.state_output_profile = b
                }
                ("state_output", serde_json::Value::String(s)) => opts.state_output = s,
                ("output_indent", serde_json::Value::Number(n)) => opts.indent = n.as_i64(),
                ("retcode", serde_json::Value::Number(n)) => retcode = n.as_i64().unwrap_or(0),
                (other, _) => eprintln!("ignored option {other}"),
            }
        }
    }
    let mut input = String::new();
    if std::io::stdin().read_to_string(&mut input).is_err() {
        eprintln!("stdin is not UTF-8");
        std::process::exit(2);
    }
    let data: serde_json::Value = match serde_json::from_str(&input) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("bad JSON: {e}");
            std::process::exit(2);
        }
    };
    match render_with_retcode(
        &outputter,
        &halite_core::json::from_json(&data),
        &opts,
        retcode,
    ) {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
