//! YAML with Salt's loader rules: libyaml's parser (through libyaml-safer, as Salt uses PyYAML's
//! `CSafeLoader`), PyYAML 1.1's implicit resolver and Salt's `SaltYamlSafeLoader` constructor
//! (`0644` is 644, timestamps stay strings, duplicate keys are an error at every level).

mod compose;
mod construct;
mod error;

pub use error::{Mark, YamlError};

use halite_core::Value;

/// Load one YAML document as Salt's `salt.utils.yaml.safe_load` does. Empty input is `Null`;
/// a second document is an error (`expected a single document in the stream`).
pub fn load(text: &str) -> Result<Value, YamlError> {
    let fixed;
    let (mut bytes, appended) = if compose::needs_newline(text) {
        fixed = format!("{text}\n");
        (fixed.as_bytes(), Some(text.len() as u64))
    } else {
        (text.as_bytes(), None)
    };
    let mut composer = compose::Composer::new(
        &mut bytes,
        appended,
        end_mark(text),
        text.rsplit('\n')
            .next()
            .is_some_and(|l| !l.trim_matches([' ', '\t']).is_empty()),
    );
    composer.start_stream()?;
    if composer.at_stream_end()?.is_none() {
        return Ok(Value::Null);
    }
    let root = composer.compose_document()?;
    if let Some(next) = composer.at_stream_end()? {
        return Err(YamlError::marked(
            Some("expected a single document in the stream"),
            Some(root.start),
            "but found another document",
            Some(next),
        ));
    }
    construct::construct(&root)
}

/// Load every document of a YAML stream, as `yaml.load_all` with Salt's loader does.
pub fn load_all(text: &str) -> Result<Vec<Value>, YamlError> {
    let fixed;
    let (mut bytes, appended) = if compose::needs_newline(text) {
        fixed = format!("{text}\n");
        (fixed.as_bytes(), Some(text.len() as u64))
    } else {
        (text.as_bytes(), None)
    };
    let mut composer = compose::Composer::new(
        &mut bytes,
        appended,
        end_mark(text),
        text.rsplit('\n')
            .next()
            .is_some_and(|l| !l.trim_matches([' ', '\t']).is_empty()),
    );
    composer.start_stream()?;
    let mut docs = Vec::new();
    while composer.at_stream_end()?.is_some() {
        let root = composer.compose_document()?;
        docs.push(construct::construct(&root)?);
    }
    Ok(docs)
}

/// The mark just past the last character of `text`.
fn end_mark(text: &str) -> Mark {
    let line = text.matches('\n').count() as u64;
    let last = text.rsplit('\n').next().unwrap_or("");
    Mark {
        line,
        column: last.chars().count() as u64,
    }
}

#[cfg(test)]
mod tests;
