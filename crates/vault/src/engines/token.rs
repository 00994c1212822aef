//! `auth/token/` endpoints for the client's own token.

use std::collections::BTreeMap;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{Result, VaultError};
use crate::http::Transport;

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

pub async fn lookup_self(t: &Transport) -> Result<TokenInfo> {
    let resp = t
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
