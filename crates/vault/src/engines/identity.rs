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
    /// Policies every token of the entity gets on top of its own (null reads as empty).
    #[serde(default, deserialize_with = "null_as_empty_strings")]
    pub policies: Vec<String>,
    /// A disabled entity's tokens are refused.
    #[serde(default)]
    pub disabled: bool,
}

/// What `identity/entity/name/<name>` is written with: everything that decides what the
/// entity's tokens may do, so a write puts back anything changed by hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntitySettings {
    /// Its metadata.
    pub metadata: BTreeMap<String, String>,
    /// Policies added to every token of the entity.
    pub policies: Vec<String>,
    /// Whether its tokens are refused.
    pub disabled: bool,
}

impl Entity {
    /// What this entity would be written with to stay as it is.
    pub fn settings(&self) -> EntitySettings {
        EntitySettings {
            metadata: self.metadata.clone(),
            policies: self.policies.clone(),
            disabled: self.disabled,
        }
    }
}

fn null_as_empty_strings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
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

/// `POST /v1/identity/entity/name/<name>` with `{"metadata", "policies", "disabled"}`: creates
/// the entity or replaces those three (an empty `policies` list clears the entity's policies).
pub async fn write_entity(session: &Session, name: &str, settings: &EntitySettings) -> Result<()> {
    let body = RequestBody::json(&json!({
        "metadata": settings.metadata,
        "policies": settings.policies,
        "disabled": settings.disabled,
    }))?;
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
