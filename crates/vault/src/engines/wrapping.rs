//! Response wrapping (`sys/wrapping/*`) and the AppRole endpoints that hand out a wrapped
//! secret id (`auth/<mount>/role/<role>/...`). A wrapping token is single use: unwrapping it
//! once consumes it, and a second unwrap, like an expired or unknown token, is refused with
//! `WRAPPING_TOKEN_INVALID`. No message ever quotes a wrapping token or what it wraps.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{ErrorCode, Result, VaultError};
use crate::http::{HttpClient, RawResponse, RequestBody, TokenHeader};
use crate::path::ApiPath;
use crate::session::Session;

/// What Vault says of a wrapping token (`sys/wrapping/lookup`), without the token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WrapLookup {
    /// The endpoint whose answer it wraps, e.g. `auth/approle/role/gw1/secret-id`.
    pub creation_path: String,
    /// When it was made (RFC 3339).
    #[serde(default)]
    pub creation_time: String,
    /// Its lifetime in seconds.
    #[serde(default)]
    pub creation_ttl: u64,
}

/// A wrapped answer's `wrap_info`.
#[derive(Debug, Deserialize)]
pub struct WrapInfo {
    /// The single-use wrapping token.
    pub token: SecretString,
    /// Its accessor (safe to log).
    #[serde(default)]
    pub accessor: String,
    /// Seconds it stays valid.
    #[serde(default)]
    pub ttl: u64,
    /// The endpoint that made it.
    #[serde(default)]
    pub creation_path: String,
}

/// Maps Vault's refusal of a wrapping token (400 `wrapping token is not valid or does not exist`,
/// or a 403 for an unknown token) to `WRAPPING_TOKEN_INVALID`.
fn wrapping_error(resp: RawResponse, what: &str) -> VaultError {
    let status = resp.status.as_u16();
    let mut e = resp.into_error();
    if matches!(status, 400 | 403) {
        e.code = ErrorCode::WrappingTokenInvalid;
        e.message = format!(
            "the wrapped secret id ({what}) is not valid: already unwrapped, expired or unknown ({})",
            e.message
        );
    }
    e
}

/// `POST /v1/sys/wrapping/lookup` with `{"token": ...}` (no other token needed): the wrapping
/// token's creation path and TTL. Does not consume it.
pub async fn lookup(http: &HttpClient, token: &SecretString, what: &str) -> Result<WrapLookup> {
    #[derive(Serialize)]
    struct Body<'s> {
        token: &'s str,
    }
    let body = RequestBody::json(&Body {
        token: token.expose_secret(),
    })?;
    let request = http.request(Method::POST, "sys/wrapping/lookup", &[], Some(body))?;
    let resp = http.send(&request, None).await?;
    if !resp.is_success() {
        return Err(wrapping_error(resp, what));
    }
    resp.envelope::<WrapLookup>()?
        .and_then(|e| e.data)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no data", resp.path))
                .with_path(resp.path.clone())
        })
}

/// `POST /v1/sys/wrapping/unwrap` with the wrapping token as `X-Vault-Token`: the wrapped
/// answer's `data`, deserialised as `T`. Consumes the token.
pub async fn unwrap<T: serde::de::DeserializeOwned>(
    http: &HttpClient,
    token: &SecretString,
    what: &str,
) -> Result<T> {
    let header = TokenHeader::new(token).ok_or_else(|| {
        VaultError::new(
            ErrorCode::WrappingTokenInvalid,
            format!("the wrapped secret id ({what}) is not a token Vault could accept"),
        )
    })?;
    let request = http.request(Method::POST, "sys/wrapping/unwrap", &[], None)?;
    let resp = http.send(&request, Some(&header)).await?;
    if !resp.is_success() {
        return Err(wrapping_error(resp, what));
    }
    resp.envelope::<T>()?.and_then(|e| e.data).ok_or_else(|| {
        VaultError::bad_response(format!("Vault's answer to {} has no data", resp.path))
            .with_path(resp.path.clone())
    })
}

/// An AppRole role's settings (`POST auth/<mount>/role/<role>`). Durations in seconds; 0 means
/// the mount's default. Every field that decides what a login may do is here, so a role written
/// from it is exactly this and a role read back compares field by field (`setup` puts back a
/// role changed by hand). [`Default`] is Vault's own default for each field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleSettings {
    /// Whether a login needs a secret id besides the role id (Vault's default: true).
    #[serde(default = "yes")]
    pub bind_secret_id: bool,
    /// Leaves `default` out of the tokens' policies (Vault's default: false).
    #[serde(default)]
    pub token_no_default_policy: bool,
    /// `default`, `service` or `batch` (Vault's default: `default`, a service token).
    #[serde(default = "default_token_type")]
    pub token_type: String,
    /// A periodic token's period, seconds (0: not periodic).
    #[serde(default)]
    pub token_period: u64,
    /// A hard cap on the tokens' lifetime, seconds (0: none beyond `token_max_ttl`).
    #[serde(default)]
    pub token_explicit_max_ttl: u64,
    /// How many uses a token has (0: unlimited).
    #[serde(default)]
    pub token_num_uses: u64,
    /// Policies of the tokens it logs in.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub token_policies: Vec<String>,
    /// Token TTL, seconds.
    #[serde(default)]
    pub token_ttl: u64,
    /// Token max TTL, seconds.
    #[serde(default)]
    pub token_max_ttl: u64,
    /// How long a secret id stays valid, seconds.
    #[serde(default)]
    pub secret_id_ttl: u64,
    /// How many logins a secret id allows (0 = unlimited).
    #[serde(default)]
    pub secret_id_num_uses: u64,
    /// CIDRs a secret id may log in from (empty = anywhere).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub secret_id_bound_cidrs: Vec<String>,
    /// CIDRs the issued tokens may be used from (empty = anywhere).
    #[serde(default, deserialize_with = "null_as_empty")]
    pub token_bound_cidrs: Vec<String>,
}

impl Default for RoleSettings {
    fn default() -> Self {
        RoleSettings {
            bind_secret_id: true,
            token_no_default_policy: false,
            token_type: default_token_type(),
            token_period: 0,
            token_explicit_max_ttl: 0,
            token_num_uses: 0,
            token_policies: Vec::new(),
            token_ttl: 0,
            token_max_ttl: 0,
            secret_id_ttl: 0,
            secret_id_num_uses: 0,
            secret_id_bound_cidrs: Vec::new(),
            token_bound_cidrs: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_token_type() -> String {
    "default".into()
}

/// Vault answers `null` for a list never set.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// `GET /v1/auth/<mount>/role/<role>`: the role's settings, or `None` when there is no such role.
pub async fn read_role(session: &Session, mount: &str, role: &str) -> Result<Option<RoleSettings>> {
    let resp = session
        .send(Method::GET, &role_path(mount, role)?, &[], None)
        .await?;
    if resp.status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let resp = resp.success()?;
    resp.envelope::<RoleSettings>()?
        .and_then(|e| e.data)
        .map(Some)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no role", resp.path))
                .with_path(resp.path.clone())
        })
}

fn role_path(mount: &str, role: &str) -> Result<String> {
    let mount = ApiPath::parse(mount)?.encoded();
    Ok(ApiPath::parse(role)?.under(&format!("auth/{mount}/role")))
}

/// The creation path a wrapped secret id of `role` under `mount` must have.
pub fn secret_id_creation_path(mount: &str, role: &str) -> String {
    format!(
        "auth/{}/role/{}/secret-id",
        mount.trim_matches('/'),
        role.trim_matches('/')
    )
}

/// `POST /v1/auth/<mount>/role/<role>`: creates or replaces an AppRole role (204).
pub async fn write_role(
    session: &Session,
    mount: &str,
    role: &str,
    settings: &RoleSettings,
) -> Result<()> {
    let body = RequestBody::json(settings)?;
    session
        .send(Method::POST, &role_path(mount, role)?, &[], Some(body))
        .await?
        .success()?;
    Ok(())
}

/// `GET /v1/auth/<mount>/role/<role>/role-id`: the role's id (not a secret on its own, but
/// kept in a `SecretString` as half of the login).
pub async fn read_role_id(session: &Session, mount: &str, role: &str) -> Result<SecretString> {
    #[derive(Deserialize)]
    struct Data {
        role_id: SecretString,
    }
    let path = format!("{}/role-id", role_path(mount, role)?);
    let resp = session
        .send(Method::GET, &path, &[], None)
        .await?
        .success()?;
    resp.envelope::<Data>()?
        .and_then(|e| e.data)
        .map(|d| d.role_id)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no role_id", resp.path))
                .with_path(resp.path.clone())
        })
}

/// `POST /v1/auth/<mount>/role/<role>/secret-id` with `X-Vault-Wrap-TTL`: a new secret id,
/// response-wrapped for `wrap_ttl`; only the wrapping token comes back.
pub async fn wrapped_secret_id(
    session: &Session,
    mount: &str,
    role: &str,
    wrap_ttl: Duration,
) -> Result<WrapInfo> {
    #[derive(Deserialize)]
    struct Answer {
        wrap_info: Option<WrapInfo>,
    }
    let path = format!("{}/secret-id", role_path(mount, role)?);
    let body = RequestBody::json(&json!({}))?;
    let request = session
        .http()
        .request(Method::POST, &path, &[], Some(body))?
        .with_wrap_ttl(wrap_ttl);
    let resp = session.send_prepared(&request).await?.success()?;
    let answer: Answer = resp.json()?;
    answer.wrap_info.ok_or_else(|| {
        VaultError::bad_response(format!("Vault's answer to {} is not wrapped", resp.path))
            .with_path(resp.path.clone())
    })
}

/// `DELETE /v1/auth/<mount>/role/<role>` (204, also when absent).
pub async fn delete_role(session: &Session, mount: &str, role: &str) -> Result<()> {
    session
        .send(Method::DELETE, &role_path(mount, role)?, &[], None)
        .await?
        .success()?;
    Ok(())
}
