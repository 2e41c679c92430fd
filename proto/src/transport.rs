//! ZeroMQ sockets as Salt configures them (libzmq through `zmq`: ZMTP heartbeats, TCP
//! keepalive, HWM and reconnect behave as under pyzmq). The API is blocking: each socket is
//! owned by one thread (a publisher behind a mutex).

use std::sync::Mutex;
use std::time::Duration;

/// The largest request frame the ret port accepts (64 MiB): file chunks are 1 MiB, pillar
/// and returns are far smaller.
pub const MAX_REQUEST_SIZE: i64 = 64 << 20;

/// A transport failure, with the endpoint.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// libzmq refused an operation.
    #[error("{what} {endpoint}: {err}")]
    Zmq {
        /// What was being done.
        what: &'static str,
        /// The endpoint.
        endpoint: String,
        /// libzmq's error.
        err: zmq::Error,
    },
    /// No reply within the timeout (the socket has been rebuilt).
    #[error("no reply from {0} within {1:?}")]
    Timeout(String, Duration),
}

fn zerr<'a>(what: &'static str, endpoint: &'a str) -> impl Fn(zmq::Error) -> TransportError + 'a {
    move |err| TransportError::Zmq {
        what,
        endpoint: endpoint.to_string(),
        err,
    }
}

/// TCP keepalive settings (`tcp_keepalive*` options; -1 leaves the OS default).
#[derive(Debug, Clone, Copy)]
pub struct Keepalive {
    /// `tcp_keepalive`.
    pub enabled: bool,
    /// `tcp_keepalive_idle`.
    pub idle: i32,
    /// `tcp_keepalive_cnt`.
    pub cnt: i32,
    /// `tcp_keepalive_intvl`.
    pub intvl: i32,
}

impl Default for Keepalive {
    fn default() -> Self {
        Keepalive {
            enabled: true,
            idle: 300,
            cnt: -1,
            intvl: -1,
        }
    }
}

fn keepalive(s: &zmq::Socket, k: Keepalive) -> zmq::Result<()> {
    s.set_tcp_keepalive(if k.enabled { 1 } else { 0 })?;
    if k.enabled {
        s.set_tcp_keepalive_idle(k.idle)?;
        s.set_tcp_keepalive_cnt(k.cnt)?;
        s.set_tcp_keepalive_intvl(k.intvl)?;
    }
    Ok(())
}

/// `tcp://host:port`, with IPv6 literals bracketed.
pub fn tcp_endpoint(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("tcp://[{host}]:{port}")
    } else {
        format!("tcp://{host}:{port}")
    }
}

/// The master's PUB socket (`publish_port`): single-frame publications.
pub struct Publisher {
    sock: Mutex<zmq::Socket>,
}

impl Publisher {
    /// Bind with Salt's options: HWM 1000, backlog 1000, linger 1, keepalive, ZMTP
    /// heartbeat every 10 s with a 30 s timeout.
    pub fn bind(ctx: &zmq::Context, endpoint: &str, k: Keepalive) -> Result<Self, TransportError> {
        let s = ctx
            .socket(zmq::PUB)
            .map_err(zerr("creating PUB for", endpoint))?;
        let setup = || -> zmq::Result<()> {
            s.set_sndhwm(1000)?;
            s.set_rcvhwm(1000)?;
            s.set_backlog(1000)?;
            s.set_linger(1)?;
            keepalive(&s, k)?;
            s.set_heartbeat_ivl(10_000)?;
            s.set_heartbeat_timeout(30_000)?;
            s.bind(endpoint)
        };
        setup().map_err(zerr("binding", endpoint))?;
        Ok(Publisher {
            sock: Mutex::new(s),
        })
    }

    /// Send one frame to every subscriber.
    pub fn send(&self, frame: &[u8]) -> Result<(), TransportError> {
        let s = self.sock.lock().unwrap_or_else(|p| p.into_inner());
        s.send(frame, 0).map_err(zerr("publishing on", "PUB"))
    }
}

/// The master's request server: a ROUTER (`ret_port`) in front of a pool of worker threads
/// (Salt's MWorkers), joined by libzmq's queue device over `inproc`.
pub struct RequestServer;

impl RequestServer {
    /// Bind the ROUTER with Salt's options and run `workers` threads, each calling `handle`
    /// with one request frame and sending back the reply it returns. Blocks the calling
    /// thread in the queue device.
    pub fn run<F>(
        ctx: &zmq::Context,
        endpoint: &str,
        workers: usize,
        handle: F,
    ) -> Result<(), TransportError>
    where
        F: Fn(&[u8]) -> Vec<u8> + Send + Sync + 'static,
    {
        let front = ctx
            .socket(zmq::ROUTER)
            .map_err(zerr("creating ROUTER for", endpoint))?;
        let setup = || -> zmq::Result<()> {
            front.set_linger(1000)?;
            front.set_router_handover(true)?;
            front.set_tcp_keepalive(1)?;
            front.set_tcp_keepalive_idle(60)?;
            front.set_tcp_keepalive_intvl(15)?;
            front.set_tcp_keepalive_cnt(3)?;
            front.set_backlog(1000)?;
            // Nothing Salt sends comes near this; a bigger frame is dropped by libzmq
            // before it costs memory.
            front.set_maxmsgsize(MAX_REQUEST_SIZE)?;
            front.set_heartbeat_ivl(10_000)?;
            front.set_heartbeat_timeout(30_000)?;
            front.bind(endpoint)
        };
        setup().map_err(zerr("binding", endpoint))?;
        let inproc = format!("inproc://workers-{}", endpoint.replace(['/', ':'], "_"));
        let back = ctx
            .socket(zmq::DEALER)
            .map_err(zerr("creating DEALER for", &inproc))?;
        back.bind(&inproc).map_err(zerr("binding", &inproc))?;
        let handle = std::sync::Arc::new(handle);
        for n in 0..workers.max(1) {
            let rep = ctx
                .socket(zmq::REP)
                .map_err(zerr("creating REP for", &inproc))?;
            rep.connect(&inproc).map_err(zerr("connecting", &inproc))?;
            let handle = handle.clone();
            std::thread::Builder::new()
                .name(format!("mworker-{n}"))
                .spawn(move || loop {
                    let parts = match rep.recv_multipart(0) {
                        Ok(p) => p,
                        // A signal interrupted the wait: wait again.
                        Err(zmq::Error::EINTR) => continue,
                        Err(_) => return,
                    };
                    // A request is exactly one frame; anything else gets the reply an
                    // undecodable frame gets (the handler refuses an empty frame).
                    let reply = match parts.as_slice() {
                        [one] => handle(one),
                        _ => handle(&[]),
                    };
                    if let Err(e) = rep.send(reply, 0) {
                        tracing::warn!("request worker could not reply: {e}");
                    }
                })
                .map_err(|_| TransportError::Zmq {
                    what: "spawning a worker for",
                    endpoint: endpoint.to_string(),
                    err: zmq::Error::EMFILE,
                })?;
        }
        loop {
            match zmq::proxy(&front, &back) {
                // A signal (SIGSTOP/SIGCONT, a debugger) interrupted the device: resume.
                Err(zmq::Error::EINTR) => continue,
                r => return r.map_err(zerr("running the queue device on", endpoint)),
            }
        }
    }
}

/// A REQ client for minion → master requests. On a timeout or error the socket is closed
/// and rebuilt, as Salt's request client does.
pub struct ReqClient {
    ctx: zmq::Context,
    endpoint: String,
    sock: Option<zmq::Socket>,
    keepalive: Keepalive,
}

impl ReqClient {
    /// A client for `endpoint` (connected lazily).
    pub fn new(ctx: &zmq::Context, endpoint: &str, keepalive: Keepalive) -> ReqClient {
        ReqClient {
            ctx: ctx.clone(),
            endpoint: endpoint.to_string(),
            sock: None,
            keepalive,
        }
    }

    fn socket(&mut self) -> Result<&zmq::Socket, TransportError> {
        if self.sock.is_none() {
            let s = self
                .ctx
                .socket(zmq::REQ)
                .map_err(zerr("creating REQ for", &self.endpoint))?;
            let setup = || -> zmq::Result<()> {
                s.set_linger(0)?;
                s.set_reconnect_ivl_max(5000)?;
                keepalive(&s, self.keepalive)?;
                if self.endpoint.contains('[') {
                    s.set_ipv6(true)?;
                }
                s.connect(&self.endpoint)
            };
            setup().map_err(zerr("connecting", &self.endpoint))?;
            self.sock = Some(s);
        }
        self.sock.as_ref().ok_or(TransportError::Timeout(
            self.endpoint.clone(),
            Duration::ZERO,
        ))
    }

    /// Send one request frame and wait up to `timeout` for its reply.
    pub fn request(&mut self, frame: &[u8], timeout: Duration) -> Result<Vec<u8>, TransportError> {
        let endpoint = self.endpoint.clone();
        let result = (|| {
            let s = self.socket()?;
            s.send(frame, 0).map_err(zerr("sending to", &endpoint))?;
            let ready = s
                .poll(zmq::POLLIN, timeout.as_millis() as i64)
                .map_err(zerr("waiting on", &endpoint))?;
            if ready == 0 {
                return Err(TransportError::Timeout(endpoint.clone(), timeout));
            }
            s.recv_bytes(0).map_err(zerr("receiving from", &endpoint))
        })();
        if result.is_err() {
            self.sock = None;
        }
        result
    }
}

/// A minion's SUB socket on the master's publish port.
pub struct Subscriber {
    sock: zmq::Socket,
}

impl Subscriber {
    /// Connect with Salt's options: subscribe to everything, identity = minion id, a
    /// randomised reconnect interval in [`recon_default`, `recon_default + recon_max`].
    pub fn connect(
        ctx: &zmq::Context,
        endpoint: &str,
        id: &str,
        recon_default: i32,
        recon_max: i32,
        recon_randomize: bool,
        k: Keepalive,
    ) -> Result<Subscriber, TransportError> {
        let s = ctx
            .socket(zmq::SUB)
            .map_err(zerr("creating SUB for", endpoint))?;
        let ivl = if recon_randomize {
            let r = crate::crypto::random_bytes(4);
            let r = u32::from_le_bytes([r[0], r[1], r[2], r[3]]);
            recon_default.saturating_add((r % (recon_max.max(1) as u32)) as i32)
        } else {
            recon_default
        };
        let setup = || -> zmq::Result<()> {
            s.set_identity(id.as_bytes())?;
            s.set_linger(1)?;
            keepalive(&s, k)?;
            s.set_reconnect_ivl(ivl)?;
            s.set_reconnect_ivl_max(recon_max)?;
            s.set_subscribe(b"")?;
            s.connect(endpoint)
        };
        setup().map_err(zerr("subscribing to", endpoint))?;
        Ok(Subscriber { sock: s })
    }

    /// The next publication frame, or `None` after `timeout` without one.
    pub fn recv(&self, timeout: Duration) -> Result<Option<Vec<u8>>, TransportError> {
        let ready = self
            .sock
            .poll(zmq::POLLIN, timeout.as_millis() as i64)
            .map_err(zerr("waiting on", "SUB"))?;
        if ready == 0 {
            return Ok(None);
        }
        self.sock
            .recv_bytes(0)
            .map(Some)
            .map_err(zerr("receiving on", "SUB"))
    }
}
