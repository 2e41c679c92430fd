//! YAML with Salt's loader rules (libyaml's parser, PyYAML 1.1 resolver as Salt applies it).
//!
//! (Stub: being written.)

use halite_core::Value;

/// A YAML error, formatted as PyYAML's `str(MarkedYAMLError)`.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    /// The whole message, e.g. `while parsing a block mapping\n  in "<unicode string>", line 7, column 7\ndid not find expected key\n  in "<unicode string>", line 7, column 20`.
    pub message: String,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for YamlError {}

/// Load one YAML document as Salt's `SaltYamlSafeLoader` does. Empty input is `Null`.
pub fn load(text: &str) -> Result<Value, YamlError> {
    let _ = text;
    Err(YamlError {
        message: "YAML loader not available yet".into(),
    })
}
