//! Salt 3008.5's outputters, byte for byte: `highstate`, `nested`, `json`, `yaml`, `txt`,
//! `raw` and `quiet`.
//!
//! Pure: data in, the exact text Salt writes to stdout out. The data is what `salt-call`
//! hands its outputter, `{"local": <return>}`. As Salt's `display_output` does, the
//! outputter's text is right-stripped and printed with one final newline; an empty
//! text prints nothing at all.

pub mod colors;
pub mod highstate;
pub mod json_out;
pub mod nested;
pub mod pprint;
pub mod pyformat;
pub mod pytext;
pub mod raw;
pub mod textwrap;
pub mod txt;
pub mod yaml_out;

use halite_core::{Error, Value};

/// The options Salt's outputters read from the CLI and minion config.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputOptions {
    /// ANSI colours on (`--force-color`) or off (`--no-color`; the CLI turns them off
    /// when stdout is not a tty).
    pub color: bool,
    /// Salt's `state_output`: `full`, `terse`, `mixed`, `changes`, `filter`, or one of
    /// them with `_id` (the state ID shown as the name). Case-insensitive; unknown
    /// values print in full.
    pub state_output: String,
    /// Salt's `state_verbose` (`--state-verbose`): `false` hides successful states that
    /// changed nothing.
    pub state_verbose: bool,
    /// `--out-indent`: the json/yaml indentation (`None`: Salt's default; negative:
    /// one-line form).
    pub indent: Option<i64>,
    /// Salt's `state_output_diff`: hide successful states that changed nothing.
    pub state_output_diff: bool,
    /// Salt's `state_tabular`: aligned columns in the terse form.
    pub state_tabular: bool,
    /// Salt's `state_output_profile`: `Started`/`Duration` per state and `Total run time`.
    pub state_output_profile: bool,
}

impl Default for OutputOptions {
    /// Salt's defaults: no colour, `full`, verbose, default indent, profile on.
    fn default() -> Self {
        OutputOptions {
            color: false,
            state_output: "full".to_string(),
            state_verbose: true,
            indent: None,
            state_output_diff: false,
            state_tabular: false,
            state_output_profile: true,
        }
    }
}

/// The outputter names [`render`] knows.
pub const OUTPUTTERS: [&str; 7] = ["highstate", "nested", "json", "yaml", "txt", "raw", "quiet"];

/// Render `data` (`{"local": <return>}`) with the named outputter, exactly as Salt
/// writes it to stdout (final newline included; `""` when Salt prints nothing).
///
/// `"highstate"` falls back to `"nested"` for data that is not a state return, as
/// Salt does. An unknown outputter name is an [`Error::InvalidArgument`]; a state
/// return Salt's highstate outputter would crash on is an [`Error::CommandExecution`].
pub fn render(outputter: &str, data: &Value, opts: &OutputOptions) -> Result<String, Error> {
    render_with_retcode(outputter, data, opts, 0)
}

/// [`render`] for a call that ended with `retcode` (Salt's `_retcode`): with colours on,
/// a non-zero code turns the nested outputter's structure lines red, as `salt-call` does
/// for a failed execution function. Without colours the text is the same as [`render`]'s.
pub fn render_with_retcode(
    outputter: &str,
    data: &Value,
    opts: &OutputOptions,
    retcode: i64,
) -> Result<String, Error> {
    let text = match outputter {
        "highstate" => {
            // Salt's highstate outputter edits the data it formats; a fallback to nested
            // prints the edited data.
            let mut data = data.clone();
            match highstate::Highstate::new(opts).output(&mut data) {
                Ok(text) => text,
                Err(highstate::Failure::Fallback) => nested_text(&data, opts, retcode),
                Err(highstate::Failure::Crash(msg)) => {
                    return Err(Error::CommandExecution(format!(
                        "The highstate outputter failed: {msg}"
                    )))
                }
            }
        }
        "nested" => nested_text(data, opts, retcode),
        "json" => json_out::output(data, opts.indent),
        "yaml" => yaml_out::output(data, opts.indent),
        "txt" => txt::output(data),
        "raw" => raw::output(data),
        "quiet" => String::new(),
        other => {
            return Err(Error::InvalidArgument(format!(
                "Invalid outputter {other} specified (known: {})",
                OUTPUTTERS.join(", ")
            )))
        }
    };
    Ok(finish(&text))
}

fn nested_text(data: &Value, opts: &OutputOptions, retcode: i64) -> String {
    let colors = colors::Palette::new(opts.color);
    nested::Nested::new(&colors, retcode).output(data, 0)
}

/// Salt's `try_printout` + `print`: right-strip, then one newline; nothing when empty.
fn finish(text: &str) -> String {
    let text = pytext::py_rstrip(text);
    if text.is_empty() {
        String::new()
    } else {
        format!("{text}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use halite_core::map;

    #[test]
    fn unknown_outputter_is_an_error() {
        let err = render("bogus", &Value::Null, &OutputOptions::default());
        assert!(matches!(err, Err(Error::InvalidArgument(_))));
    }

    #[test]
    fn output_is_right_stripped_with_one_newline() {
        let data = Value::Map(map! {"local" => "text  \n\n"});
        let out = render("txt", &data, &OutputOptions::default());
        assert_eq!(out, Ok("local: text  \nlocal:\n".to_string()));
        let empty = Value::Map(map! {"local" => ""});
        assert_eq!(
            render("txt", &empty, &OutputOptions::default()),
            Ok(String::new())
        );
        assert_eq!(
            render("quiet", &data, &OutputOptions::default()),
            Ok(String::new())
        );
    }

    #[test]
    fn retcode_reddens_nested_structure_only_with_colour() {
        let data = Value::Map(map! {"local" => Value::Map(map! {"a" => 1i64})});
        let plain = OutputOptions::default();
        assert_eq!(
            render_with_retcode("nested", &data, &plain, 1),
            render("nested", &data, &plain)
        );
        let colored = OutputOptions {
            color: true,
            ..OutputOptions::default()
        };
        let red = render_with_retcode("nested", &data, &colored, 1).unwrap_or_default();
        assert!(red.starts_with("\x1b[0;31mlocal\x1b[0;0m:\n"), "{red:?}");
    }

    #[test]
    fn highstate_falls_back_to_nested_for_other_data() {
        let data = Value::Map(map! {"local" => Value::Map(map! {"a" => 1i64})});
        let opts = OutputOptions::default();
        let hs = render("highstate", &Value::List(vec![Value::Int(1)]), &opts);
        assert_eq!(hs, Ok("- 1\n".to_string()));
        // A mapping whose values are not state returns still gets a (empty) summary.
        let hs = render("highstate", &data, &opts);
        assert_eq!(
            hs,
            Ok("local:\n\nSummary for local\n-----------\nSucceeded: 0\nFailed:   0\n-----------\nTotal states run:    0\nTotal run time:  0.000 ms\n".to_string())
        );
    }
}
