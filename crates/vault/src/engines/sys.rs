//! `sys/` endpoints: health, seal status, and the mount lookup the `vault kv` CLI uses.

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::KvVersion;
use crate::error::{ErrorCode, Result, VaultError};
use crate::session::Session;

/// `GET sys/health`. Vault answers every status with this body, so it is parsed leniently and
/// the status is kept: 200 active, 429 standby, 472/473 DR or performance secondary, 501 not
/// initialised, 503 sealed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Health {
    /// The HTTP status Vault answered (not part of Vault's body).
    #[serde(default)]
    pub status: u16,
    #[serde(default)]
    pub initialized: bool,
    #[serde(default)]
    pub sealed: bool,
    #[serde(default)]
    pub standby: bool,
    #[serde(default)]
    pub performance_standby: bool,
    #[serde(default)]
    pub replication_performance_mode: Option<String>,
    #[serde(default)]
    pub replication_dr_mode: Option<String>,
    #[serde(default)]
    pub server_time_utc: Option<i64>,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub cluster_name: Option<String>,
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

pub async fn health(session: &Session) -> Result<Health> {
    let resp = session.send(Method::GET, "sys/health", &[], None).await?;
    let status = resp.status.as_u16();
    if !HEALTH_STATUSES.contains(&status) || resp.is_empty() {
        return Err(resp.into_error());
    }
    let mut health: Health = resp.json()?;
    health.status = status;
    Ok(health)
}

/// `GET sys/seal-status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SealStatus {
    #[serde(rename = "type", default)]
    pub seal_type: Option<String>,
    pub initialized: bool,
    pub sealed: bool,
    #[serde(default)]
    pub t: u32,
    #[serde(default)]
    pub n: u32,
    #[serde(default)]
    pub progress: u32,
    #[serde(default)]
    pub nonce: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub build_date: Option<String>,
    #[serde(default)]
    pub migration: bool,
    #[serde(default)]
    pub cluster_name: Option<String>,
    #[serde(default)]
    pub cluster_id: Option<String>,
    #[serde(default)]
    pub recovery_seal: bool,
    #[serde(default)]
    pub storage_type: Option<String>,
}

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

/// What `sys/internal/ui/mounts/<path>` says of a mount.
#[derive(Debug, Clone, PartialEq)]
pub struct KvMount {
    pub path: String,
    pub version: KvVersion,
}

/// Detects the KV version of `mount`. 404 (an old Vault without the endpoint) means KV v1, as
/// for the `vault kv` CLI.
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
