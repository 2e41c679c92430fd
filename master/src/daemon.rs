//! `salt-master`: set up the directories and keys, bind the PUB socket, the event bus and
//! the request server, and run the maintenance loop (AES rotation on the `.dfn` dropfile,
//! job cache cleanup).

use crate::pki::{write_private, Pki};
use crate::Master;
use halite_core::config::MasterConfig;
use halite_proto::transport::{tcp_endpoint, Keepalive, Publisher};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A port option, refused when it is not one.
pub fn port(cfg: &MasterConfig, key: &str, default: i64) -> Result<u16, String> {
    let v = cfg.int(key, default);
    u16::try_from(v)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("{key}: {v} is not a valid port"))
}

/// Build the master's shared state (keys, sockets) from its configuration.
pub fn setup(cfg: MasterConfig, ctx: &zmq::Context) -> Result<Arc<Master>, String> {
    let cachedir = cfg.path("cachedir");
    std::fs::create_dir_all(&cachedir).map_err(|e| format!("{}: {e}", cachedir.display()))?;
    let pki = Pki::open(&cfg.path("pki_dir"))
        .map_err(|e| format!("{}: {e}", cfg.path("pki_dir").display()))?;
    let key = pki.master_key(cfg.int("keysize", 2048).clamp(1024, 16384) as u32)?;
    let pub_text = pki
        .master_pub_text()
        .map_err(|e| format!("master.pub: {e}"))?;
    // The key local CLIs publish with, as `.<user>_key` (Salt's `get_master_key`).
    let root_key = halite_proto::crypto::new_key_string();
    let key_file = cachedir.join(crate::client::key_file_name(&cfg));
    let _ = std::fs::remove_file(&key_file);
    write_private(&key_file, root_key.as_bytes(), 0o400)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let secrets =
        crate::secrets::Secrets::new(&cachedir, cfg.int("publish_session", 86400) as u64)?;
    let events = Arc::new(crate::events::EventBus::bind(&cfg.path("sock_dir"))?);
    events.serve_pull(&cfg.path("sock_dir"))?;
    publish_pull_marker(&cfg.path("sock_dir"))?;
    let interface = cfg.str("interface").unwrap_or("0.0.0.0").to_string();
    let pub_ep = tcp_endpoint(&interface, port(&cfg, "publish_port", 4505)?);
    let publisher =
        Publisher::bind(ctx, &pub_ep, Keepalive::default()).map_err(|e| e.to_string())?;
    Ok(Arc::new(Master {
        jobs: crate::jobcache::JobCache::new(&cachedir),
        data: crate::datacache::DataCache::new(&cachedir),
        files: crate::fileserver::FileServer::new(&cfg.opts),
        cfg,
        pki,
        key,
        pub_text,
        secrets,
        events,
        publisher,
        root_key,
        last_jid: Mutex::new(String::new()),
        publish_lock: Mutex::new(()),
    }))
}

/// Salt's `LocalClient` checks that `<sock_dir>/publish_pull.ipc` exists before it
/// publishes (in Salt it is the socket workers hand publications to the publisher through).
/// Halite's workers publish in-process, so the socket is bound for that check only: it
/// accepts connections and closes them.
fn publish_pull_marker(sock_dir: &std::path::Path) -> Result<(), String> {
    let p = sock_dir.join("publish_pull.ipc");
    let _ = std::fs::remove_file(&p);
    let l = std::os::unix::net::UnixListener::bind(&p)
        .map_err(|e| format!("binding {}: {e}", p.display()))?;
    let _ = std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600));
    std::thread::Builder::new()
        .name("publish-pull".into())
        .spawn(move || {
            for c in l.incoming() {
                drop(c);
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn maintenance(m: Arc<Master>) {
    let dfn = m.cfg.path("cachedir").join(".dfn");
    let keep = m.cfg.int("keep_jobs", 24).max(0) as u64;
    let mut ticks: u64 = 0;
    loop {
        std::thread::sleep(Duration::from_secs(1));
        if dfn.exists() && m.cfg.flag("rotate_aes_key") {
            if let Err(e) = m.secrets.rotate() {
                tracing::error!("rotating the AES key: {e}");
            }
            let _ = std::fs::remove_file(&dfn);
        }
        ticks += 1;
        if keep > 0 && ticks % 3600 == 1 {
            m.jobs.clean(keep);
        }
    }
}

/// Run the master until it is killed.
pub fn run(cfg: MasterConfig) -> Result<(), String> {
    let ctx = zmq::Context::new();
    let m = setup(cfg, &ctx)?;
    let ret_ep = tcp_endpoint(
        m.cfg.str("interface").unwrap_or("0.0.0.0"),
        port(&m.cfg, "ret_port", 4506)?,
    );
    tracing::info!(
        publish_port = m.cfg.int("publish_port", 4505),
        ret_port = m.cfg.int("ret_port", 4506),
        "salt-master is starting"
    );
    {
        let m = m.clone();
        std::thread::Builder::new()
            .name("maintenance".into())
            .spawn(move || maintenance(m))
            .map_err(|e| format!("starting the maintenance thread: {e}"))?;
    }
    let workers = m.cfg.int("worker_threads", 5).clamp(1, 64) as usize;
    let handler = m.clone();
    halite_proto::transport::RequestServer::run(&ctx, &ret_ep, workers, move |frame| {
        crate::reqserver::handle(&handler, frame)
    })
    .map_err(|e| e.to_string())
}
