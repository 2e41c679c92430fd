//! Salt's log levels mapped onto `tracing`, written to stderr as `[LEVEL   ] message`.

use tracing_subscriber::EnvFilter;

/// Install the subscriber for Salt's `log_level` (`quiet` disables logging).
pub fn init(level: &str) {
    let filter = match level.to_ascii_lowercase().as_str() {
        "quiet" => "off",
        "critical" | "error" => "error",
        "warning" | "warn" => "warn",
        "info" | "profile" => "info",
        "debug" => "debug",
        "trace" | "garbage" | "all" => "trace",
        _ => "warn",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}
