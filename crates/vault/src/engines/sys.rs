//! `sys/` endpoints: health, seal status, and the mount lookup the `vault kv` CLI uses.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::KvVersion;
use crate::error::{ErrorCode, Result, VaultError};
use crate::session::Session;

/// A node's health (`GET /v1/sys/health`). Vault answers every status with this body, so it is
/// parsed leniently and the status is kept: 200 active, 429 standby, 472/473 DR or performance
/// secondary, 501 not initialised, 503 sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The HTTP status Vault answered (not part of Vault's body).
    #[serde(default)]
    pub status: u16,
    /// Whether the storage is initialised.
    #[serde(default)]
    pub initialized: bool,
    /// Whether the node is sealed.
    #[serde(default)]
    pub sealed: bool,
    /// Whether the node is a standby.
    #[serde(default)]
    pub standby: bool,
    /// Whether the node is a performance standby (Enterprise).
    #[serde(default)]
    pub performance_standby: bool,
    /// Performance replication mode (Enterprise), e.g. `"disabled"`.
    #[serde(default)]
    pub replication_performance_mode: Option<String>,
    /// DR replication mode (Enterprise), e.g. `"disabled"`.
    #[serde(default)]
    pub replication_dr_mode: Option<String>,
    /// The server's clock, epoch seconds.
    #[serde(default)]
    pub server_time_utc: Option<i64>,
    /// The server's version, e.g. `"1.21.4"`.
    #[serde(default)]
    pub version: Option<String>,
    /// The cluster's name, once unsealed.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The cluster's id, once unsealed.
    #[serde(default)]
    pub cluster_id: Option<String>,
}

impl Health {
    /// Serving requests: initialised, unsealed, and active or a standby that forwards.
    pub fn is_healthy(&self) -> bool {
        self.initialized && !self.sealed && matches!(self.status, 200 | 429 | 473)
    }
}

/// The statuses `sys/health` uses to describe a node rather than to refuse the request.
const HEALTH_STATUSES: [u16; 8] = [200, 429, 472, 473, 474, 501, 503, 530];

/// `GET /v1/sys/health` (unauthenticated): the node's state. Every status that describes a node
/// (200, 429, 472, 473, 474, 501, 503, 530) is an answer, not an error. Sent once, with no token
/// and no retry: those statuses describe the node now (a sealed node answers 503 at once, and
/// retrying it until a deadline made `status` call a sealed Vault unreachable); a failed
/// connection is the request's own error (`NETWORK`, `TLS_ERROR`, `TIMEOUT`).
pub async fn health(session: &Session) -> Result<Health> {
    let http = session.http();
    let request = http.request(Method::GET, "sys/health", &[], None)?;
    let resp = http.send_without_retry(&request, None).await?;
    let status = resp.status.as_u16();
    if !HEALTH_STATUSES.contains(&status) || resp.is_empty() {
        return Err(resp.into_error());
    }
    let mut health: Health = resp.json()?;
    health.status = status;
    Ok(health)
}

/// `GET /v1/sys/health` on every configured node at once (each sent once, no token, no retry),
/// in the order of [`crate::http::HttpClient::node_addrs`]: each node's address and its
/// answer, parsed as [`health`] does.
pub async fn health_of_every_node(session: &Session) -> Vec<(url::Url, Result<Health>)> {
    let http = session.http();
    let nodes = http.node_addrs().to_vec();
    let probes = (0..nodes.len()).map(|i| async move {
        let request = http.request(Method::GET, "sys/health", &[], None)?;
        let resp = http.send_to_node(&request, i, None).await?;
        let status = resp.status.as_u16();
        if !HEALTH_STATUSES.contains(&status) || resp.is_empty() {
            return Err(resp.into_error());
        }
        let mut health: Health = resp.json()?;
        health.status = status;
        Ok(health)
    });
    let answers = futures_util::future::join_all(probes).await;
    nodes.into_iter().zip(answers).collect()
}

/// Whether a Vault is there and able to serve, for a circuit breaker's probe:
/// `GET /v1/sys/health?standbyok=true&perfstandbyok=true`, sent once (no retry), with no token
/// and no login. With those parameters a standby and a performance standby answer 200 instead of
/// 429 and 473. Any HTTP answer shows the server is there and is `Ok`, a refusal too (a proxy
/// that blocks `sys/` with 403 while reads pass, a 429, a 473 from an older node), except:
/// 501 or a body saying it is sealed or not initialised (`SEALED`), and 502, 503 or 504 (what a
/// load balancer or a sealed node says: `SEALED` when Vault's body says sealed, else
/// `SERVER_ERROR`), each with the status. A timeout, a failed connection or TLS is the request's
/// own error.
pub async fn probe(session: &Session) -> Result<()> {
    let http = session.http();
    let query = [
        ("standbyok", "true".to_string()),
        ("perfstandbyok", "true".to_string()),
    ];
    let request = http.request(Method::GET, "sys/health", &query, None)?;
    let resp = http.send_without_retry(&request, None).await?;
    let status = resp.status.as_u16();
    // Only a node-state answer carries a health body, and only what it says counts: a proxy's
    // `{"errors":[]}` has no `initialized`, which must not read as "not initialised".
    let body = HEALTH_STATUSES
        .contains(&status)
        .then(|| serde_json::from_slice::<Value>(&resp.body).ok())
        .flatten();
    let says = |key: &str, value: bool| {
        body.as_ref()
            .and_then(|b| b.get(key))
            .and_then(Value::as_bool)
            == Some(value)
    };
    let sealed = status == 501 || says("sealed", true) || says("initialized", false);
    if sealed || (502..=504).contains(&status) {
        let code = if sealed {
            ErrorCode::Sealed
        } else {
            ErrorCode::ServerError
        };
        return Err(VaultError::new(
            code,
            format!(
                "Vault's sys/health answered {status}{}",
                if sealed {
                    " (sealed or not initialised)"
                } else {
                    ""
                }
            ),
        )
        .with_path("/v1/sys/health")
        .with_status(status));
    }
    Ok(())
}

/// The seal's state (`GET /v1/sys/seal-status`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealStatus {
    /// The seal type, e.g. `"shamir"`.
    #[serde(rename = "type", default)]
    pub seal_type: Option<String>,
    /// Whether the storage is initialised.
    pub initialized: bool,
    /// Whether the node is sealed.
    pub sealed: bool,
    /// Key shares needed to unseal (threshold).
    #[serde(default)]
    pub t: u32,
    /// Key shares in all.
    #[serde(default)]
    pub n: u32,
    /// Key shares given so far in the current unseal.
    #[serde(default)]
    pub progress: u32,
    /// The current unseal attempt's nonce, or `""`.
    #[serde(default)]
    pub nonce: String,
    /// The server's version.
    #[serde(default)]
    pub version: Option<String>,
    /// When the server was built.
    #[serde(default)]
    pub build_date: Option<String>,
    /// Whether a seal migration is in progress.
    #[serde(default)]
    pub migration: bool,
    /// The cluster's name, once unsealed.
    #[serde(default)]
    pub cluster_name: Option<String>,
    /// The cluster's id, once unsealed.
    #[serde(default)]
    pub cluster_id: Option<String>,
    /// Whether the seal uses recovery keys (auto-unseal).
    #[serde(default)]
    pub recovery_seal: bool,
    /// The storage backend, e.g. `"raft"`.
    #[serde(default)]
    pub storage_type: Option<String>,
}

/// `GET /v1/sys/seal-status` (unauthenticated): the seal's state.
pub async fn seal_status(session: &Session) -> Result<SealStatus> {
    let resp = session
        .send(Method::GET, "sys/seal-status", &[], None)
        .await?
        .success()?;
    resp.json()
}

#[derive(Deserialize)]
struct MountInfo {
    #[serde(default)]
    path: String,
    #[serde(rename = "type", default)]
    mount_type: String,
    #[serde(default)]
    options: Option<Value>,
}

/// What `sys/internal/ui/mounts/{mount}` says of a KV mount.
#[derive(Debug, Clone, PartialEq)]
pub struct KvMount {
    /// The mount's path, with a trailing `/`.
    pub path: String,
    /// Its KV version.
    pub version: KvVersion,
}

/// `GET /v1/sys/internal/ui/mounts/{mount}`: the KV version of `mount`, as the `vault kv` CLI
/// finds it. 404 (an old Vault without the endpoint) means KV v1; a mount of another engine is
/// `INVALID_ARGUMENT`.
pub async fn kv_mount(session: &Session, mount: &str) -> Result<KvMount> {
    let api = format!("sys/internal/ui/mounts/{mount}");
    let resp = session.send(Method::GET, &api, &[], None).await?;
    if resp.status == StatusCode::NOT_FOUND {
        return Ok(KvMount {
            path: format!("{mount}/"),
            version: KvVersion::V1,
        });
    }
    let resp = resp.success()?;
    let info = resp
        .envelope::<MountInfo>()?
        .and_then(|e| e.data)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no mount data", resp.path))
                .with_path(resp.path.clone())
        })?;
    if !info.mount_type.is_empty() && info.mount_type != "kv" && info.mount_type != "generic" {
        return Err(VaultError::new(
            ErrorCode::InvalidArgument,
            format!("mount \"{mount}\" is a {} engine, not KV", info.mount_type),
        )
        .with_path(resp.path.clone()));
    }
    let version = info
        .options
        .as_ref()
        .and_then(|o| o.get("version"))
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        });
    let version = match version.as_deref() {
        Some("2") => KvVersion::V2,
        _ => KvVersion::V1,
    };
    Ok(KvMount {
        path: info.path,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_property::assert_hides_input;
    use serde_json::json;

    #[test]
    fn parse_errors_of_mount_answers_never_quote_the_input() {
        assert_hides_input(
            json!({"data": {"path": "secret/", "type": "kv", "options": {"version": "2"}, "description": "d"}}),
            |r| r.envelope::<MountInfo>(),
        );
    }
}
