//! The fileclient: how the minion reaches `salt://` files, whether they sit in local
//! `file_roots` (`file_client: local`, [`crate::fileroots::LocalRoots`]) or on the master's
//! fileserver (the remote client, later). Everything above it (SLS rendering, `cp.*`,
//! `file.managed` sources, Jinja imports) goes through this trait only.

use halite_render::Loader;
use std::path::PathBuf;

/// A source of state-tree files, per saltenv.
pub trait FileClient: Loader {
    /// The saltenvs the fileserver knows, in its order.
    fn envs(&self) -> Vec<String>;

    /// Every sls of a saltenv (Salt's `list_states`), sorted.
    fn list_states(&self, saltenv: &str) -> Vec<String>;

    /// Every file (or, with `dirs`, directory) of a saltenv, relative, sorted
    /// (Salt's `list_master` / `list_master_dirs`).
    fn list_files(&self, saltenv: &str, dirs: bool) -> Vec<String>;

    /// A local path holding `rel` of `saltenv` (the file itself for local roots, the cached
    /// copy for a remote fileserver); `None` when the fileserver has no such file.
    fn cache_file(&self, saltenv: &str, rel: &str) -> Option<PathBuf>;

    /// Resolve an sls name (`a.b`) to `a/b.sls` or `a/b/init.sls`: (relative path, local path).
    fn find_sls(&self, saltenv: &str, sls: &str) -> Option<(String, PathBuf)> {
        let base = sls.replace('.', "/");
        [format!("{base}.sls"), format!("{base}/init.sls")]
            .into_iter()
            .find_map(|rel| self.cache_file(saltenv, &rel).map(|p| (rel, p)))
    }
}
