//! The Kubernetes API side of `k8s_node`: load one kubeconfig file, build a client with short
//! timeouts, GET and merge-PATCH one Node, and name failures the way the states report them.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Client, Config};
use std::future::Future;
use std::path::Path;
use std::time::Duration;

/// The kubeconfig used when neither the call nor the minion options name one.
pub const DEFAULT_KUBECONFIG: &str = "/etc/kubernetes/admin.conf";

/// The minion option naming the kubeconfig.
pub const KUBECONFIG_OPT: &str = "k8s.kubeconfig";

/// Time allowed to open a TCP (and TLS) connection to the API server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);
/// Time allowed between bytes of an answer, and to send a request.
const IO_TIMEOUT: Duration = Duration::from_secs(8);
/// Time allowed for one whole request, whatever happens inside.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// The field manager Halite's patches are recorded under in `managedFields`.
pub const FIELD_MANAGER: &str = "halite";

/// Why a Node could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The kubeconfig could not be read or used.
    #[error("{0}")]
    Kubeconfig(String),
    /// The Node does not exist.
    #[error("Node {name} not found in the Kubernetes API ({server})")]
    NotFound {
        /// The Node name.
        name: String,
        /// The API server.
        server: String,
    },
    /// No answer from the API server (refused, unreachable, timed out, broken connection).
    #[error("Cannot reach the Kubernetes API at {server}: {cause}")]
    Unreachable {
        /// The API server.
        server: String,
        /// The innermost cause.
        cause: String,
    },
    /// The API server answered with an error status.
    #[error(
        "The Kubernetes API ({server}) refused to {action} Node {name}: {code} {reason}: {message}"
    )]
    Refused {
        /// `read` or `patch`.
        action: &'static str,
        /// The Node name.
        name: String,
        /// The API server.
        server: String,
        /// The HTTP status.
        code: u16,
        /// The `Status` reason (`Conflict`, `Forbidden`, ...).
        reason: String,
        /// The `Status` message.
        message: String,
    },
    /// A taint PATCH kept meeting 409 Conflict.
    #[error("{last} (still conflicting after {attempts} attempts)")]
    StillConflicting {
        /// How many PATCHes were tried.
        attempts: usize,
        /// The last refusal.
        last: Box<NodeError>,
    },
    /// A patch could not be encoded.
    #[error("cannot encode the patch for Node {name}: {cause}")]
    Encode {
        /// The Node name.
        name: String,
        /// The encoder's message.
        cause: String,
    },
}

impl NodeError {
    /// A 409 Conflict (the Node changed since it was read).
    pub fn is_conflict(&self) -> bool {
        matches!(self, NodeError::Refused { code: 409, .. })
    }
}

/// A client for the Nodes of one API server.
pub struct NodeClient {
    api: Api<Node>,
    server: String,
}

impl NodeClient {
    /// Load `kubeconfig` (its current context) and build a client; must run inside the async
    /// runtime (the client spawns its connection tasks there).
    ///
    /// Only the file is read: no in-cluster configuration, no `KUBECONFIG`, and no proxy from
    /// the environment (a `proxy-url` in the file itself is honoured).
    pub async fn connect(kubeconfig: &Path) -> Result<NodeClient, NodeError> {
        let config = load_config(kubeconfig).await?;
        let server = server_label(&config.cluster_url.to_string());
        let client = Client::try_from(config).map_err(|e| {
            NodeError::Kubeconfig(format!(
                "cannot build a Kubernetes client from {}: {}",
                kubeconfig.display(),
                root_cause(&e)
            ))
        })?;
        Ok(NodeClient {
            api: Api::all(client),
            server,
        })
    }

    /// The API server, as error messages name it (`https://10.0.0.1:6443`).
    pub fn server(&self) -> &str {
        &self.server
    }

    /// GET the Node `name`.
    pub async fn get(&self, name: &str) -> Result<Node, NodeError> {
        let answer = bounded(self.api.get(name)).await;
        answer.map_err(|e| self.error(e, "read", name))
    }

    /// PATCH the Node `name` with a JSON merge patch (`application/merge-patch+json`).
    pub async fn merge_patch(
        &self,
        name: &str,
        patch: &serde_json::Value,
    ) -> Result<Node, NodeError> {
        let params = PatchParams {
            field_manager: Some(FIELD_MANAGER.to_string()),
            ..PatchParams::default()
        };
        let answer = bounded(self.api.patch(name, &params, &Patch::Merge(patch))).await;
        answer.map_err(|e| self.error(e, "patch", name))
    }

    /// Name a client error: 404 is a missing Node, another status a refusal, anything else
    /// (connect, TLS, I/O, timeout) an unreachable server.
    fn error(&self, err: Failure, action: &'static str, name: &str) -> NodeError {
        let server = self.server.clone();
        match err {
            Failure::Kube(kube::Error::Api(status)) if status.code == 404 => NodeError::NotFound {
                name: name.to_string(),
                server,
            },
            Failure::Kube(kube::Error::Api(status)) => NodeError::Refused {
                action,
                name: name.to_string(),
                server,
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            Failure::Kube(e) => NodeError::Unreachable {
                server,
                cause: root_cause(&e),
            },
            Failure::TimedOut => NodeError::Unreachable {
                server,
                cause: format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
            },
        }
    }
}

/// A failed request: the client's error, or no answer in [`REQUEST_TIMEOUT`].
enum Failure {
    Kube(kube::Error),
    TimedOut,
}

/// Run one request under [`REQUEST_TIMEOUT`].
async fn bounded<T>(fut: impl Future<Output = kube::Result<T>>) -> Result<T, Failure> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(answer) => answer.map_err(Failure::Kube),
        Err(_) => Err(Failure::TimedOut),
    }
}

/// The client configuration from the file `path`, with Halite's timeouts and no retries (a
/// state must answer, not wait out an overloaded server).
async fn load_config(path: &Path) -> Result<Config, NodeError> {
    let invalid = |e: &dyn std::error::Error| {
        NodeError::Kubeconfig(format!(
            "invalid kubeconfig {}: {}",
            path.display(),
            chain(e)
        ))
    };
    let kubeconfig = Kubeconfig::read_from(path).map_err(|e| match e {
        KubeconfigError::ReadConfig(io, _) => NodeError::Kubeconfig(format!(
            "cannot read kubeconfig {}: {}",
            path.display(),
            strip_os_error(&io.to_string())
        )),
        other => invalid(&other),
    })?;
    let proxy_in_file = kubeconfig
        .clusters
        .iter()
        .any(|c| c.cluster.as_ref().is_some_and(|c| c.proxy_url.is_some()));
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| invalid(&e))?;
    if !proxy_in_file {
        // kube falls back to $HTTPS_PROXY; Halite reads the kubeconfig file only.
        config.proxy_url = None;
    }
    config.connect_timeout = Some(CONNECT_TIMEOUT);
    config.read_timeout = Some(IO_TIMEOUT);
    config.write_timeout = Some(IO_TIMEOUT);
    config.reset_reader_on_write = true;
    config.default_retry = false;
    Ok(config)
}

/// The API server's URL as the kubeconfig gives it: `http::Uri` adds a `/` path.
fn server_label(uri: &str) -> String {
    uri.strip_suffix('/').unwrap_or(uri).to_string()
}

/// The innermost error of `err`'s source chain, without Rust's `(os error N)` suffix.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut inner = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    strip_os_error(&inner.to_string())
}

/// Every message of `err`'s source chain, `: `-joined, skipping repeats.
fn chain(err: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![err.to_string()];
    let mut next = err.source();
    while let Some(e) = next {
        let text = strip_os_error(&e.to_string());
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// `"No such file or directory (os error 2)"` → `"No such file or directory"`.
fn strip_os_error(text: &str) -> String {
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_error_suffix_is_dropped() {
        assert_eq!(
            strip_os_error("No such file or directory (os error 2)"),
            "No such file or directory"
        );
        assert_eq!(strip_os_error("tcp connect error"), "tcp connect error");
    }

    #[test]
    fn servers_are_named_without_a_trailing_slash() {
        assert_eq!(
            server_label("https://10.0.0.1:6443/"),
            "https://10.0.0.1:6443"
        );
        assert_eq!(
            server_label("https://lb.example/k8s"),
            "https://lb.example/k8s"
        );
    }

    #[test]
    fn a_missing_kubeconfig_is_named() {
        let err = crate::runtime::block_on(NodeClient::connect(Path::new(
            "/nonexistent/halite/admin.conf",
        )))
        .unwrap()
        .err()
        .unwrap();
        assert_eq!(
            err.to_string(),
            "cannot read kubeconfig /nonexistent/halite/admin.conf: No such file or directory"
        );
    }
}
