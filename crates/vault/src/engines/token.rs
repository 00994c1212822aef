//! `auth/token/` endpoints for the session's own token: look it up and renew it. The
//! [renewal loop](crate::session::renewal) and the [`VaultClient`](crate::VaultClient) call them.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{Result, VaultError};
use crate::http::RequestBody;
use crate::session::Session;

/// `GET auth/token/lookup-self`, without the `id` field: that field is the token itself, and this
/// value is handed to callers who may log it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub accessor: String,
    #[serde(default)]
    pub creation_time: i64,
    #[serde(default)]
    pub creation_ttl: i64,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub entity_id: String,
    #[serde(default)]
    pub expire_time: Option<String>,
    #[serde(default)]
    pub explicit_max_ttl: i64,
    #[serde(default)]
    pub issue_time: Option<String>,
    #[serde(default)]
    pub meta: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub num_uses: i64,
    #[serde(default)]
    pub orphan: bool,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub policies: Vec<String>,
    #[serde(default)]
    pub renewable: bool,
    /// Seconds left; 0 for a token that never expires (root).
    #[serde(default)]
    pub ttl: i64,
    #[serde(rename = "type", default)]
    pub token_type: String,
}

/// `GET /v1/auth/token/lookup-self`: what Vault knows of the session's token.
pub async fn lookup_self(session: &Session) -> Result<TokenInfo> {
    let resp = session
        .send(Method::GET, "auth/token/lookup-self", &[], None)
        .await?
        .success()?;
    resp.envelope::<TokenInfo>()?
        .and_then(|e| e.data)
        .ok_or_else(|| {
            VaultError::bad_response(format!("Vault's answer to {} has no token data", resp.path))
                .with_path(resp.path.clone())
        })
}

/// What `renew-self` answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewedToken {
    /// The token's new TTL in seconds; shorter than asked when the max TTL capped it.
    pub ttl_secs: u64,
    /// Whether it can be renewed again.
    pub renewable: bool,
}

#[derive(Deserialize)]
struct RenewAuth {
    #[serde(default)]
    lease_duration: u64,
    #[serde(default)]
    renewable: bool,
}

#[derive(Deserialize)]
struct RenewAnswer {
    auth: Option<RenewAuth>,
}

/// `POST /v1/auth/token/renew-self` with `{"increment": "<seconds>s"}`: extends the session's
/// token by `increment`, as far as its max TTL allows.
pub async fn renew_self(session: &Session, increment: Duration) -> Result<RenewedToken> {
    let body = RequestBody::json(
        &serde_json::json!({ "increment": format!("{}s", increment.as_secs()) }),
    )?;
    let resp = session
        .send(Method::POST, "auth/token/renew-self", &[], Some(body))
        .await?
        .success()?;
    let answer: RenewAnswer = resp.json()?;
    Ok(answer
        .auth
        .map(|a| RenewedToken {
            ttl_secs: a.lease_duration,
            renewable: a.renewable,
        })
        .unwrap_or(RenewedToken {
            ttl_secs: 0,
            renewable: false,
        }))
}
