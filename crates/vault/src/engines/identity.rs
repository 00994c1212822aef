//! Vault's identity store (`identity/entity/*`, `identity/entity-alias`): one entity per
//! gateway and agent, with metadata naming it, so Vault's audit device names the reader.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use crate::error::{Result, VaultError};
use crate::http::RequestBody;
use crate::path::ApiPath;
use crate::session::Session;

/// One alias of an entity: a login (an AppRole role id, say) through one auth mount.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EntityAlias {
    /// The name the auth method gives the login (AppRole: the role id).
    #[serde(default)]
    pub name: String,
    /// The auth mount's accessor (`auth_approle_1234abcd`).
    #[serde(default)]
    pub mount_accessor: String,
}

/// An entity as `identity/entity/name/<name>` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Entity {
    /// Its id (what tokens carry as `entity_id` and the audit log as `auth.entity_id`).
    pub id: String,
    /// Its metadata (null in Vault's answer reads as empty).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Its aliases.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub aliases: Vec<EntityAlias>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<BTreeMap<String, String>, D::Error> {
    Ok(Option::<BTreeMap<String, String>>::deserialize(d)?.unwrap_or_default())
}

fn null_as_empty_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<EntityAlias>, D::Error> {
    Ok(Option::<Vec<EntityAlias>>::deserialize(d)?.unwrap_or_default())
}

fn entity_path(name: &str) -> Result<String> {
    Ok(ApiPath::parse(name)?.under("identity/entity/name"))
}

/// `GET /v1/identity/entity/name/<name>`: the entity, or `None` when there is none.
pub async fn read_entity(session: &Session, name: &str) -> Result<Option<Entity>> {
    let resp = session
        .send(Method::GET, &entity_path(name)?, &[], None)
        .await?;
    if resp.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let resp = resp.success()?;
    resp.envelope::<Entity>()?
        .and_then(|e| e.data)
        .map(Some)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no entity", resp.path))
                .with_path(resp.path.clone())
        })
}

/// `POST /v1/identity/entity/name/<name>` with `{"metadata": ...}`: creates the entity or
/// replaces its metadata.
pub async fn write_entity(
    session: &Session,
    name: &str,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let body = RequestBody::json(&json!({ "metadata": metadata }))?;
    session
        .send(Method::POST, &entity_path(name)?, &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `DELETE /v1/identity/entity/name/<name>` (204, also when absent); its aliases go with it.
pub async fn delete_entity(session: &Session, name: &str) -> Result<()> {
    session
        .send(Method::DELETE, &entity_path(name)?, &[], None)
        .await?
        .success()?;
    Ok(())
}

/// `POST /v1/identity/entity-alias` with `{name, canonical_id, mount_accessor}`: ties a login
/// (for AppRole, the role id) to the entity.
pub async fn create_alias(
    session: &Session,
    alias_name: &str,
    entity_id: &str,
    mount_accessor: &str,
) -> Result<()> {
    let body = RequestBody::json(&json!({
        "name": alias_name,
        "canonical_id": entity_id,
        "mount_accessor": mount_accessor,
    }))?;
    session
        .send(Method::POST, "identity/entity-alias", &[], Some(body))
        .await?
        .success()?;
    Ok(())
}
