//! Talking to etcd (API v3, plain http) through `etcd-client`, one endpoint at a time so that
//! every answer and every failure is tied to the endpoint that gave it. Each endpoint is
//! dialled first (TCP, [`DIAL_TIMEOUT`]) and each request bounded by [`REQUEST_TIMEOUT`], so
//! a dead or black-holed member never hangs a state.

use etcd_client::{Client, ConnectOptions};
use halite_core::{Map, Value};
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// How long to wait for a TCP connection to an endpoint.
pub const DIAL_TIMEOUT: Duration = Duration::from_secs(2);
/// How long to wait for the answer to one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One member of the cluster, as `MemberList` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The member id.
    pub id: u64,
    /// Its name; empty while the member has never started.
    pub name: String,
    /// The URLs its peers reach it on.
    pub peer_urls: Vec<String>,
    /// The URLs clients reach it on (empty while never started).
    pub client_urls: Vec<String>,
    /// A raft learner (non-voting)?
    pub is_learner: bool,
}

impl Member {
    fn from_client(m: &etcd_client::Member) -> Member {
        Member {
            id: m.id(),
            name: m.name().to_string(),
            peer_urls: m.peer_urls().to_vec(),
            client_urls: m.client_urls().to_vec(),
            is_learner: m.is_learner(),
        }
    }

    /// The id as `etcdctl member list` prints it (lower-case hex).
    pub fn hex_id(&self) -> String {
        format!("{:x}", self.id)
    }

    /// Has the member ever started (it then has a name)?
    pub fn is_started(&self) -> bool {
        !self.name.is_empty()
    }

    /// Does the member own the peer URL `url`?
    pub fn has_peer_url(&self, url: &str) -> bool {
        self.peer_urls.iter().any(|u| same_url(u, url))
    }

    /// Is `endpoint` one of the member's client URLs?
    pub fn has_client_url(&self, endpoint: &str) -> bool {
        self.client_urls.iter().any(|u| same_url(u, endpoint))
    }

    /// The member as `etcd.member_list` returns it.
    pub fn to_value(&self) -> Value {
        let strings = |v: &[String]| Value::List(v.iter().map(Value::from).collect());
        let mut m = Map::default();
        m.insert("name".into(), Value::from(&self.name));
        m.insert("id".into(), Value::Str(self.hex_id()));
        m.insert("peer_urls".into(), strings(&self.peer_urls));
        m.insert("client_urls".into(), strings(&self.client_urls));
        m.insert("is_learner".into(), Value::Bool(self.is_learner));
        Value::Map(m)
    }
}

/// Two URLs are the same when they differ at most by a trailing slash or letter case.
pub fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/')
        .eq_ignore_ascii_case(b.trim_end_matches('/'))
}

/// Members sorted by name (never-started ones, without a name, first), then by id.
pub fn sorted(mut members: Vec<Member>) -> Vec<Member> {
    members.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    members
}

/// A failure to get an answer from one endpoint, worded for a state comment:
/// `endpoint http://10.0.0.3:2379: connection refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    /// The endpoint (client URL).
    pub endpoint: String,
    /// What went wrong.
    pub reason: String,
}

impl EndpointError {
    fn new(endpoint: &str, reason: impl Into<String>) -> EndpointError {
        EndpointError {
            endpoint: endpoint.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for EndpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "endpoint {}: {}", self.endpoint, self.reason)
    }
}

impl std::error::Error for EndpointError {}

/// Join several endpoint errors into one line.
pub fn join_errors(errors: &[EndpointError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The host and port of an `http://host:port` endpoint (a bare `host:port` is http too).
pub(crate) fn host_port(endpoint: &str) -> Result<(String, u16), String> {
    let rest = if let Some(rest) = endpoint.strip_prefix("http://") {
        rest
    } else if endpoint.starts_with("https://") {
        return Err(
            "'https' endpoints are not available (etcd-client is built without TLS)".into(),
        );
    } else if endpoint.contains("://") {
        return Err("not an http:// URL".into());
    } else {
        endpoint
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, tail) = v6.split_once(']').ok_or("unclosed '[' in the address")?;
            (host, tail.strip_prefix(':').unwrap_or(""))
        }
        None => authority.rsplit_once(':').unwrap_or((authority, "")),
    };
    if host.is_empty() {
        return Err("no host in the URL".into());
    }
    let port = if port.is_empty() {
        2379
    } else {
        port.parse::<u16>()
            .map_err(|_| format!("bad port '{port}' in the URL"))?
    };
    Ok((host.to_string(), port))
}

/// The text of a failed request: etcd's own message for a gRPC status
/// (`etcdserver: unhealthy cluster`), the transport error otherwise.
fn describe(err: &etcd_client::Error) -> String {
    match err {
        etcd_client::Error::GRpcStatus(s) if !s.message().is_empty() => s.message().to_string(),
        etcd_client::Error::GRpcStatus(s) => format!("{:?}", s.code()),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// The text of a failed dial.
fn describe_dial(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => err.to_string(),
    }
}

/// What one endpoint says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The id of the member behind the endpoint.
    pub member_id: u64,
    /// The leader's id (0: no leader).
    pub leader: u64,
    /// The etcd version.
    pub version: String,
}

/// A connection to one endpoint.
pub struct Conn {
    endpoint: String,
    client: Client,
}

impl Conn {
    /// Dial `endpoint` and set up a client for it.
    pub async fn open(endpoint: &str) -> Result<Conn, EndpointError> {
        let (host, port) = host_port(endpoint).map_err(|r| EndpointError::new(endpoint, r))?;
        match tokio::time::timeout(
            DIAL_TIMEOUT,
            tokio::net::TcpStream::connect((host.as_str(), port)),
        )
        .await
        {
            Ok(Ok(_probe)) => {}
            Ok(Err(e)) => return Err(EndpointError::new(endpoint, describe_dial(&e))),
            Err(_) => {
                return Err(EndpointError::new(
                    endpoint,
                    format!("no connection within {} s", DIAL_TIMEOUT.as_secs()),
                ))
            }
        }
        let options = ConnectOptions::new()
            .with_connect_timeout(DIAL_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT);
        let url = if endpoint.contains("://") {
            endpoint.to_string()
        } else {
            format!("http://{endpoint}")
        };
        let client = bounded(endpoint, Client::connect([url], Some(options))).await?;
        Ok(Conn {
            endpoint: endpoint.to_string(),
            client,
        })
    }

    /// The endpoint this connection talks to.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// `Status` of the member behind the endpoint.
    pub async fn status(&mut self) -> Result<Status, EndpointError> {
        let resp = bounded(&self.endpoint, self.client.status()).await?;
        Ok(Status {
            member_id: resp.header().map_or(0, |h| h.member_id()),
            leader: resp.leader(),
            version: resp.version().to_string(),
        })
    }

    /// What `etcdctl endpoint health` checks: the member answers, knows a leader, and a
    /// linearizable read goes through (which needs a quorum).
    pub async fn check_health(&mut self) -> Result<Status, EndpointError> {
        let status = self.status().await?;
        if status.leader == 0 {
            return Err(EndpointError::new(&self.endpoint, "no leader"));
        }
        bounded(&self.endpoint, self.client.get("health", None)).await?;
        Ok(status)
    }

    /// The members of the cluster (served by the member itself, no quorum needed).
    pub async fn members(&mut self) -> Result<Vec<Member>, EndpointError> {
        let resp = bounded(&self.endpoint, self.client.member_list()).await?;
        Ok(resp.members().iter().map(Member::from_client).collect())
    }

    /// Add a voting member with `peer_url`; the new member and the member list after it.
    pub async fn add_member(
        &mut self,
        peer_url: &str,
    ) -> Result<(Option<Member>, Vec<Member>), EndpointError> {
        let resp = bounded(&self.endpoint, self.client.member_add([peer_url], None)).await?;
        let added = resp.member().map(Member::from_client);
        let list = resp.member_list().iter().map(Member::from_client).collect();
        Ok((added, list))
    }

    /// Remove the member `id`; the member list after it.
    pub async fn remove_member(&mut self, id: u64) -> Result<Vec<Member>, EndpointError> {
        let resp = bounded(&self.endpoint, self.client.member_remove(id)).await?;
        Ok(resp.members().iter().map(Member::from_client).collect())
    }
}

/// Run one request against `endpoint` within [`REQUEST_TIMEOUT`].
async fn bounded<T>(
    endpoint: &str,
    fut: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, EndpointError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(EndpointError::new(endpoint, describe(&e))),
        Err(_) => Err(EndpointError::new(
            endpoint,
            format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        )),
    }
}

/// The member list from the first of `endpoints` that answers (with that connection), or
/// every endpoint's failure.
pub async fn first_members(
    endpoints: &[String],
) -> Result<(Conn, Vec<Member>), Vec<EndpointError>> {
    let mut errors = Vec::new();
    for ep in endpoints {
        let attempt = async {
            let mut conn = Conn::open(ep).await?;
            let members = conn.members().await?;
            Ok::<_, EndpointError>((conn, members))
        };
        match attempt.await {
            Ok(found) => return Ok(found),
            Err(e) => errors.push(e),
        }
    }
    Err(errors)
}

/// The health of one endpoint ([`Conn::check_health`]).
pub async fn endpoint_health(endpoint: &str) -> Result<Status, EndpointError> {
    Conn::open(endpoint).await?.check_health().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(
            host_port("http://10.0.0.3:2379"),
            Ok(("10.0.0.3".into(), 2379))
        );
        assert_eq!(host_port("127.0.0.1:4001/"), Ok(("127.0.0.1".into(), 4001)));
        assert_eq!(host_port("http://[::1]:2380"), Ok(("::1".into(), 2380)));
        assert_eq!(host_port("http://etcd"), Ok(("etcd".into(), 2379)));
        assert!(host_port("https://x:2379")
            .unwrap_err()
            .contains("'https' endpoints are not available"));
        assert!(host_port("http://x:port").is_err());
    }

    #[test]
    fn member_order_and_ids() {
        let m = |id, name: &str| Member {
            id,
            name: name.into(),
            peer_urls: vec![],
            client_urls: vec![],
            is_learner: false,
        };
        let list = sorted(vec![m(3, "b"), m(1, "a"), m(0xabc, "")]);
        let names: Vec<_> = list.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["", "a", "b"]);
        assert_eq!(list[0].hex_id(), "abc");
        assert!(same_url("http://A:1/", "http://a:1"));
    }

    #[test]
    fn dead_endpoint_is_refused_quickly() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let ep = format!("http://127.0.0.1:{port}");
        let err = crate::runtime::block_on(endpoint_health(&ep))
            .unwrap()
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("endpoint {ep}: connection refused")
        );
    }
}
