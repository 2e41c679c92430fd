//! How renderers read files of the state tree (`import_yaml`, `{% from "x" import y %}`,
//! `salt://` sources): through the fileserver or the local roots, never directly.

use halite_core::Result;

/// Reads files of a saltenv's state tree.
pub trait Loader: Send + Sync {
    /// The text of `path`, relative to the saltenv's roots (`lib/macros.jinja`), or a
    /// `salt://path?saltenv=env` URL. `Ok(None)` when no root has the file.
    fn read(&self, saltenv: &str, path: &str) -> Result<Option<String>>;
}
