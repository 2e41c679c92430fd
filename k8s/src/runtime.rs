//! One small async runtime for the blocking state and execution functions: the kube and etcd
//! clients are async, the state runtime is not. Each call builds a current-thread runtime
//! (cheap: no worker threads) and blocks on the future.

use halite_core::{Error, Result};
use std::future::Future;

/// Run `fut` to completion on a fresh current-thread runtime.
pub fn block_on<F: Future>(fut: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::CommandExecution(format!("cannot start the async runtime: {e}")))?;
    Ok(rt.block_on(fut))
}
