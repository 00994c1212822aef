//! Administration endpoints `openclaw-vault setup` needs: ACL policies
//! (`sys/policies/acl/{name}`), the token's own capabilities (`sys/capabilities-self`) and the
//! mount table (`sys/mounts`). Each function is one endpoint; none retries a refusal.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Result, VaultError};
use crate::http::{RawResponse, RequestBody};
use crate::path::ApiPath;
use crate::session::Session;

fn no_data(resp: &RawResponse, what: &str) -> VaultError {
    VaultError::bad_response(format!("Vault's answer to {} has no {what}", resp.path))
        .with_path(resp.path.clone())
}

fn policy_path(name: &str) -> Result<String> {
    Ok(ApiPath::parse(name)?.under("sys/policies/acl"))
}

#[derive(Deserialize)]
struct PolicyData {
    #[serde(default)]
    policy: String,
}

/// `GET /v1/sys/policies/acl/{name}`: the policy's HCL text, or `None` when there is no policy of
/// that name (404). Vault stores names lower-cased.
pub async fn read_policy(session: &Session, name: &str) -> Result<Option<String>> {
    let resp = session
        .send(Method::GET, &policy_path(name)?, &[], None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let resp = resp.success()?;
    let data = resp
        .envelope::<PolicyData>()?
        .and_then(|e| e.data)
        .ok_or_else(|| no_data(&resp, "policy"))?;
    Ok(Some(data.policy))
}

/// `PUT /v1/sys/policies/acl/{name}` with `{"policy": hcl}`: creates or replaces the policy
/// (204). A policy Vault cannot parse is 400 `INVALID_REQUEST` with Vault's parser message.
pub async fn write_policy(session: &Session, name: &str, hcl: &str) -> Result<()> {
    let body = RequestBody::json(&json!({ "policy": hcl }))?;
    session
        .send(Method::PUT, &policy_path(name)?, &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `DELETE /v1/sys/policies/acl/{name}` (204, also when absent).
pub async fn delete_policy(session: &Session, name: &str) -> Result<()> {
    session
        .send(Method::DELETE, &policy_path(name)?, &[], None)
        .await?
        .success()?;
    Ok(())
}

/// `POST /v1/sys/capabilities-self` with `{"paths": [...]}`: the session token's capabilities on
/// each path (API paths without `/v1/`), e.g. `["create", "read"]`, or `["deny"]`; `["root"]`
/// for a root token. Every path asked for is in the answer (an empty list when Vault omitted it).
pub async fn capabilities_self(
    session: &Session,
    paths: &[String],
) -> Result<BTreeMap<String, Vec<String>>> {
    let body = RequestBody::json(&json!({ "paths": paths }))?;
    let resp = session
        .send(Method::POST, "sys/capabilities-self", &[], Some(body))
        .await?
        .success()?;
    let data = resp
        .envelope::<BTreeMap<String, Value>>()?
        .and_then(|e| e.data)
        .ok_or_else(|| no_data(&resp, "capabilities"))?;
    let caps = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    Ok(paths
        .iter()
        .map(|p| {
            // One path asked: older Vaults answer only `capabilities`.
            let found = data.get(p).or_else(|| {
                (paths.len() == 1)
                    .then(|| data.get("capabilities"))
                    .flatten()
            });
            (p.clone(), caps(found))
        })
        .collect())
}

/// One entry of the mount table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// The engine, e.g. `"kv"`.
    pub mount_type: String,
    /// `options.version` (`"2"` for KV v2), if set.
    pub version: Option<String>,
    /// The mount's accessor (`auth_approle_1234abcd`), what entity aliases name it by.
    pub accessor: String,
}

#[derive(Deserialize)]
struct MountRow {
    #[serde(rename = "type", default)]
    mount_type: String,
    #[serde(default)]
    options: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    accessor: String,
}

/// `GET /v1/sys/mounts/{path}` would give only the tuning, so this reads the whole table:
/// `GET /v1/sys/mounts` and returns the entry at `mount` (with or without its trailing `/`), or
/// `None` when nothing is mounted there. Needs `read` on `sys/mounts`.
pub async fn read_mount(session: &Session, mount: &str) -> Result<Option<MountEntry>> {
    table_entry(session, "sys/mounts", mount).await
}

/// `GET /v1/sys/auth`: the auth method enabled at `mount` (`type` `"approle"`, say), or `None`.
/// Needs `read` on `sys/auth`.
pub async fn read_auth(session: &Session, mount: &str) -> Result<Option<MountEntry>> {
    table_entry(session, "sys/auth", mount).await
}

/// `POST /v1/sys/auth/{mount}` with `{"type": method}`: enables an auth method (204). Needs
/// `sudo` and `create` on `sys/auth/{mount}`.
pub async fn enable_auth(
    session: &Session,
    mount: &str,
    method: &str,
    description: &str,
) -> Result<()> {
    let api = ApiPath::parse(mount)?.under("sys/auth");
    let body = RequestBody::json(&json!({ "type": method, "description": description }))?;
    session
        .send(Method::POST, &api, &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `DELETE /v1/sys/auth/{mount}`: disables the auth method and everything configured in it.
/// Used only to undo a method the same `setup` run enabled.
pub async fn disable_auth(session: &Session, mount: &str) -> Result<()> {
    let api = ApiPath::parse(mount)?.under("sys/auth");
    session
        .send(Method::DELETE, &api, &[], None)
        .await?
        .success()?;
    Ok(())
}

/// One entry of the mount table at `api` (`sys/mounts` or `sys/auth`).
async fn table_entry(session: &Session, api: &str, mount: &str) -> Result<Option<MountEntry>> {
    let resp = session.send(Method::GET, api, &[], None).await?.success()?;
    let table = resp
        .envelope::<BTreeMap<String, Value>>()?
        .and_then(|e| e.data)
        .ok_or_else(|| no_data(&resp, "mount table"))?;
    let key = format!("{}/", mount.trim_matches('/'));
    let Some(row) = table.get(&key) else {
        return Ok(None);
    };
    let row: MountRow = serde_json::from_value(row.clone()).map_err(|_| {
        VaultError::bad_response(format!(
            "mount \"{key}\" in Vault's mount table has no type"
        ))
        .with_path(resp.path.clone())
    })?;
    let version = row
        .options
        .as_ref()
        .and_then(|o| o.get("version"))
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        });
    Ok(Some(MountEntry {
        mount_type: row.mount_type,
        version,
        accessor: row.accessor,
    }))
}

/// `POST /v1/sys/mounts/{mount}` with `{"type": "kv", "options": {"version": "2"}}`: enables a
/// KV v2 engine at `mount` (204). A path already in use is 400 `INVALID_REQUEST`.
pub async fn enable_kv2(session: &Session, mount: &str, description: &str) -> Result<()> {
    let api = ApiPath::parse(mount)?.under("sys/mounts");
    let body = RequestBody::json(&json!({
        "type": "kv",
        "options": { "version": "2" },
        "description": description,
    }))?;
    session
        .send(Method::POST, &api, &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `DELETE /v1/sys/mounts/{mount}`: disables the engine and deletes everything stored in it.
/// Used only to undo a mount the same `setup` run enabled.
pub async fn disable_mount(session: &Session, mount: &str) -> Result<()> {
    let api = ApiPath::parse(mount)?.under("sys/mounts");
    session
        .send(Method::DELETE, &api, &[], None)
        .await?
        .success()?;
    Ok(())
}
