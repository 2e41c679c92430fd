//! The master: keys (`pki`), `_auth` (`auth`), the AES and session secrets (`secrets`), the
//! request server and its minion commands (`reqserver`, `aesfuncs`), publications
//! (`publish`), expected-minion computation (`ckminions`), the fileserver, the pillar
//! service, the job cache, the event bus, and the daemon that ties them (`daemon`).
//!
//! Invariant: a minion only ever gets its own pillar; nothing is served to a key that is not
//! accepted; the publish path never waits on a minion.

pub mod aesfuncs;
pub mod auth;
pub mod ckminions;
pub mod client;
pub mod daemon;
pub mod datacache;
pub mod events;
pub mod fileserver;
pub mod jobcache;
pub mod pki;
pub mod publish;
pub mod reqserver;
pub mod secrets;

use halite_core::config::MasterConfig;
use halite_proto::transport::Publisher;
use halite_proto::PrivateKey;
use std::sync::{Arc, Mutex};

/// Everything the master's threads share.
pub struct Master {
    /// The configuration.
    pub cfg: MasterConfig,
    /// The key store.
    pub pki: pki::Pki,
    /// The master's private key.
    pub key: PrivateKey,
    /// The master's public key text as sent to minions.
    pub pub_text: String,
    /// AES and session keys.
    pub secrets: secrets::Secrets,
    /// The event bus.
    pub events: Arc<events::EventBus>,
    /// The job cache.
    pub jobs: jobcache::JobCache,
    /// Grains and pillar of each minion (for targeting).
    pub data: datacache::DataCache,
    /// The fileserver.
    pub files: fileserver::FileServer,
    /// The PUB socket.
    pub publisher: Publisher,
    /// The key local CLIs present to publish (`<cachedir>/.root_key`).
    pub root_key: String,
    /// The last jid allocated.
    pub last_jid: Mutex<String>,
    /// Held from taking a publication's serial to sending it, so serials reach the wire
    /// in order (a minion drops anything not newer than what it saw).
    pub publish_lock: Mutex<()>,
}
