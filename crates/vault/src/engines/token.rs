//! `auth/token/` endpoints for the session's own token: look it up and renew it. The renewal
//! loop and the [`VaultClient`](crate::VaultClient) call them.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::error::{Result, VaultError};
use crate::http::RequestBody;
use crate::session::Session;

/// What `lookup-self` says of a token, without the `id` field: that field is the token itself,
/// and this value is handed to callers who may log it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// The token's accessor (safe to log; names the token without being it).
    #[serde(default)]
    pub accessor: String,
    /// When it was created, epoch seconds.
    #[serde(default)]
    pub creation_time: i64,
    /// Its TTL at creation, seconds.
    #[serde(default)]
    pub creation_ttl: i64,
    /// The name it was created with (`token`, `approle`, ...).
    #[serde(default)]
    pub display_name: String,
    /// The identity entity it belongs to, or `""`.
    #[serde(default)]
    pub entity_id: String,
    /// When it expires (RFC 3339); `None` for a token that never expires (root).
    #[serde(default)]
    pub expire_time: Option<String>,
    /// Its explicit max TTL in seconds; 0 for none.
    #[serde(default)]
    pub explicit_max_ttl: i64,
    /// When the current TTL was issued (RFC 3339).
    #[serde(default)]
    pub issue_time: Option<String>,
    /// Metadata the auth method attached (`role_name`, ...).
    #[serde(default)]
    pub meta: Option<BTreeMap<String, String>>,
    /// Uses left; 0 for unlimited.
    #[serde(default)]
    pub num_uses: i64,
    /// Whether it has no parent.
    #[serde(default)]
    pub orphan: bool,
    /// The login path that created it (`auth/approle/login`).
    #[serde(default)]
    pub path: String,
    /// Its policies.
    #[serde(default)]
    pub policies: Vec<String>,
    /// Whether `renew-self` can extend it.
    #[serde(default)]
    pub renewable: bool,
    /// Seconds left; 0 for a token that never expires (root).
    #[serde(default)]
    pub ttl: i64,
    /// `service` or `batch`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::parse_property::assert_hides_input;
    use serde_json::json;

    #[test]
    fn parse_errors_of_renewal_answers_never_quote_the_input() {
        assert_hides_input(
            json!({"data": null, "auth": {"client_token": "hvs.x", "lease_duration": 60, "renewable": true}}),
            |r| r.json::<RenewAnswer>(),
        );
    }
}
