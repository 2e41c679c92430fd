//! Salt's log levels mapped onto `tracing`, written to stderr as `[LEVEL   ] message`.

use tracing_subscriber::EnvFilter;

fn directive(level: &str) -> &'static str {
    match level.to_ascii_lowercase().as_str() {
        "quiet" => "off",
        "critical" | "error" => "error",
        "warning" | "warn" => "warn",
        "info" | "profile" => "info",
        "debug" => "debug",
        "trace" | "garbage" | "all" => "trace",
        _ => "warn",
    }
}

/// For the daemons: the console at `level` and, as Salt's daemons do, `log_file` at
/// `log_level_logfile` (appended; its directory is created). A log file that cannot be
/// opened is reported on stderr and the daemon logs to the console only.
pub fn init_daemon(level: &str, log_file: Option<&str>, file_level: &str) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_filter(EnvFilter::new(directive(level)));
    let file = log_file.filter(|f| !f.is_empty()).and_then(|path| {
        let p = std::path::Path::new(path);
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            Ok(f) => Some(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::sync::Mutex::new(f))
                    .with_ansi(false)
                    .with_target(false)
                    .with_filter(EnvFilter::new(directive(file_level))),
            ),
            Err(e) => {
                eprintln!("cannot open the log file {path}: {e}");
                None
            }
        }
    });
    let _ = tracing_subscriber::registry()
        .with(console)
        .with(file)
        .try_init();
}

/// Install the subscriber for Salt's `log_level` (`quiet` disables logging).
pub fn init(level: &str) {
    let filter = directive(level);
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .try_init();
}
