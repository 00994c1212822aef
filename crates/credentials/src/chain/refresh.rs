//! OAuth refresh: one refresher across every process sharing a credential's source, the new
//! tokens written back where they came from (with cas), every other caller handed them.
//!
//! Tokens a CLI owns (Claude Code, Codex, Qwen Code, MiniMax, Gemini CLI: see
//! [`cli_owner`]) are never refreshed here: their refresh tokens work once, and trading a copy
//! logs the CLI out. One that is still valid is returned as it is (the CLI renews it when it
//! runs); an expired one is `REFRESH_FAILED` naming the CLI's login command, before the
//! refresher is called and without touching the CLI's file or keychain item.
//!
//! OAuth tokens in OpenClaw's retired JSON stores (`credentials/oauth.json`, legacy
//! `auth-profiles.json`) are treated the same way: OpenClaw imported them into its SQLite store
//! and refreshes them there; so are those of OpenClaw's SQLite store, read-only here
//! ([`openclaw_owned_token_expired`] names `openclaw models auth login`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use super::{CredentialChain, GetOptions};
use crate::audit::{AuditEvent, AuditRecord};
use crate::cache::Resolved;
use crate::credential::{fields, Credential, CredentialKind, CredentialVersion};
use crate::error::{Error, ErrorCode, Result};
use crate::providers::files::formats::cli_owner;
use crate::providers::{CredentialProvider, RefreshClaim};
use crate::time::now_ms;

/// New tokens from an OAuth refresh.
pub struct RefreshedTokens {
    /// The new access token (must not be empty).
    pub access_token: SecretString,
    /// `None` keeps the old refresh token (many providers do not rotate it).
    pub refresh_token: Option<SecretString>,
    /// A new OpenID Connect ID token, when the provider issued one.
    pub id_token: Option<SecretString>,
    /// Epoch milliseconds.
    pub expires_at: Option<i64>,
}

/// Trades a refresh token for new tokens (in Node: the caller's `refresh` callback).
#[async_trait]
pub trait Refresher: Send + Sync {
    /// New tokens for `credential` (which holds a `refreshToken`). Any error becomes
    /// `REFRESH_FAILED`.
    async fn refresh(&self, credential: &Credential) -> Result<RefreshedTokens>;
}

/// What a refresh callback outside Rust answered (in Node: the `refresh` option's promise),
/// before it is checked. Numbers are as JSON and JS carry them (`f64`).
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshAnswer {
    /// The new access token.
    pub access_token: String,
    /// The new refresh token; `None` keeps the old one.
    pub refresh_token: Option<String>,
    /// The new id token, when the provider issues one.
    pub id_token: Option<String>,
    /// Expiry, epoch milliseconds.
    pub expires_at_ms: Option<f64>,
    /// Or: seconds from now (OAuth's `expires_in`).
    pub expires_in_secs: Option<f64>,
}

impl RefreshAnswer {
    /// The tokens of this answer to the refresh of `credential`. The expiry is `expires_at_ms`
    /// when given, else `now_ms + expires_in_secs * 1000`, else none (the token does not expire
    /// as far as the answer says).
    ///
    /// Errors: `REFRESH_FAILED` (see [`refresh_callback_failed`]) when a given expiry is not a
    /// positive finite number. An empty access token is refused later, by the chain.
    pub fn into_tokens(self, credential: &Credential, now_ms: i64) -> Result<RefreshedTokens> {
        let expires_at = match (self.expires_at_ms, self.expires_in_secs) {
            (Some(at), _) if at.is_finite() && at > 0.0 => Some(at as i64),
            (_, Some(secs)) if secs.is_finite() && secs > 0.0 => {
                Some(now_ms + (secs * 1000.0) as i64)
            }
            (None, None) => None,
            _ => {
                return Err(refresh_callback_failed(
                    credential,
                    "expiresAt must be epoch milliseconds and expiresIn positive seconds",
                ))
            }
        };
        Ok(RefreshedTokens {
            access_token: SecretString::from(self.access_token),
            refresh_token: self.refresh_token.map(SecretString::from),
            id_token: self.id_token.map(SecretString::from),
            expires_at,
        })
    }
}

/// The error for a refresh callback outside Rust that failed (threw, rejected, or answered
/// something unusable) while refreshing `credential`: `REFRESH_FAILED` naming the credential,
/// with `reason` (text the caller's code produced, which may quote the tokens) redacted by
/// [`Credential::redact`] and cut to 300 characters.
pub fn refresh_callback_failed(credential: &Credential, reason: &str) -> Error {
    let reason: String = credential.redact(reason).chars().take(300).collect();
    Error::new(
        ErrorCode::RefreshFailed,
        format!(
            "the refresh callback for credential \"{}\" failed: {reason}",
            credential.name
        ),
    )
}

/// The error for a token a CLI owns that `get` with a refresher found expired (or about to be
/// refreshed): `REFRESH_FAILED` naming the credential, where it was read, the CLI and the command
/// that logs it in again, and `migrate --take-ownership` for a gateway that should own it.
/// `None` when no CLI owns `credential`. Never quotes a value.
pub fn borrowed_token_expired(credential: &Credential) -> Option<Error> {
    let owner = cli_owner(credential.source.provider, &credential.name)?;
    let name = &credential.name;
    Some(Error::new(
        ErrorCode::RefreshFailed,
        format!(
            "credential \"{name}\" from {} ({}) has expired; {} owns this login and this package never refreshes it, because its refresh token works once and a refresh here would log {} out. Renew it with {}, or make the gateway its only owner with `openclaw-vault migrate --take-ownership {name}`",
            credential.source.provider, credential.source.location, owner.cli, owner.cli, owner.renew
        ),
    ))
}

/// The provider ids of OpenClaw's retired JSON stores: `credentials/oauth.json` and the
/// per-agent `auth-profiles.json`. OpenClaw 2026.9 imported both into its SQLite store and owns
/// their OAuth tokens there.
const OPENCLAW_RETIRED_STORES: [&str; 2] = ["openclaw-oauth", "auth-profiles"];

/// The provider ids of OpenClaw's live SQLite auth stores (read-only here): OpenClaw refreshes
/// their OAuth profiles itself.
const OPENCLAW_LIVE_STORES: [&str; 2] = [
    crate::providers::openclaw_sqlite::SHARED_AUTH_STORE_ID,
    crate::providers::openclaw_sqlite::AGENT_AUTH_STORE_ID,
];

/// Whether OpenClaw owns (and refreshes) the OAuth tokens of provider `provider_id`: its
/// SQLite auth stores, and its retired JSON stores, whose tokens it imported into SQLite.
fn openclaw_owns(provider_id: &str) -> bool {
    OPENCLAW_RETIRED_STORES.contains(&provider_id) || OPENCLAW_LIVE_STORES.contains(&provider_id)
}

/// The error for an OAuth token OpenClaw owns ([`openclaw_owns`]: read from its SQLite auth
/// stores or its retired `credentials/oauth.json` / `auth-profiles.json`) that `get` with a
/// refresher found expired: `REFRESH_FAILED` naming the credential, where it was read, and
/// OpenClaw's own sign-in command, `openclaw models auth login --provider <provider>` (with
/// `--agent <id>` for an agent other than `main`). `None` for any other credential. The token is
/// never refreshed or written here: its refresh token works once, and OpenClaw's store holds it.
/// Never quotes a value.
pub fn openclaw_owned_token_expired(credential: &Credential) -> Option<Error> {
    let source = credential.source.provider;
    if credential.kind != CredentialKind::OAuth || !openclaw_owns(source) {
        return None;
    }
    let meta = |key: &str| credential.metadata.get(key).and_then(|v| v.as_str());
    let provider = meta("provider").unwrap_or_else(|| {
        credential
            .name
            .split(':')
            .next()
            .unwrap_or(&credential.name)
    });
    let agent = match meta("agent") {
        Some(agent) if agent != "main" => format!(" --agent {agent}"),
        _ => String::new(),
    };
    let whose = if OPENCLAW_RETIRED_STORES.contains(&source) {
        "it is in OpenClaw's retired JSON store, which OpenClaw imported into its SQLite store and refreshes there"
    } else {
        "OpenClaw owns the OAuth profiles of its SQLite store and refreshes them itself"
    };
    Some(Error::new(
        ErrorCode::RefreshFailed,
        format!(
            "credential \"{}\" from {source} ({}) has expired; {whose}, so this package never refreshes or writes it (its refresh token works once). Sign in again with `openclaw models auth login --provider {provider}{agent}`",
            credential.name, credential.source.location
        ),
    ))
}

impl CredentialChain {
    /// Refreshes `resolved` when a refresher was given and it is an OAuth credential expiring
    /// within the margin; stores the new tokens in the cache slot `key` (see
    /// [`CredentialChain::cache_key`]).
    ///
    /// A credential read from an agent or team layer is never refreshed here (its write-back
    /// would land in the default layer): returned as it is while it is valid, `REFRESH_FAILED`
    /// naming the layer once it has expired.
    pub(super) async fn maybe_refresh(
        self: &Arc<Self>,
        name: &str,
        key: &str,
        resolved: Arc<Resolved>,
        options: &GetOptions,
    ) -> Result<Arc<Resolved>> {
        let Some(refresher) = options.refresher.as_ref() else {
            return Ok(resolved);
        };
        if !self.should_refresh(&resolved.credential) {
            return Ok(resolved);
        }
        if let Some(layer) = resolved
            .credential
            .source
            .layer
            .as_deref()
            .filter(|l| *l != "default")
        {
            if !resolved.credential.expires_within(now_ms(), 0) {
                return Ok(resolved);
            }
            return Err(Error::new(
                ErrorCode::RefreshFailed,
                format!(
                    "credential \"{name}\" expired and was read from the Vault layer {layer}: OAuth tokens are refreshed only in the default layer; store new tokens in that layer (openclaw-vault migrate --layer {layer})"
                ),
            ));
        }
        let refreshed = self
            .refresh_coordinated(name, &resolved, refresher.as_ref())
            .await?;
        let slot = self.cache.slot(key);
        self.cache.store(&slot, refreshed.clone(), Instant::now());
        Ok(refreshed)
    }

    fn fresh(&self, credential: Credential) -> Arc<Resolved> {
        Arc::new(Resolved {
            credential,
            stale: false,
            fetched_at: Instant::now(),
            generation: self.cache.next_generation(),
            stale_until: None,
        })
    }

    /// True when `get` with a refresher refreshes `credential` before returning it: an OAuth
    /// credential that expires within `settings.refresh_margin` of now, or has expired. For a
    /// token a CLI owns, only once it has expired: `get` then fails with `REFRESH_FAILED`
    /// ([`borrowed_token_expired`]) instead of refreshing it.
    pub fn should_refresh(&self, credential: &Credential) -> bool {
        let borrowed = cli_owner(credential.source.provider, &credential.name).is_some()
            || openclaw_owns(credential.source.provider);
        credential.kind == CredentialKind::OAuth
            && if borrowed {
                credential.expires_within(now_ms(), 0)
            } else {
                self.needs_refresh(credential)
            }
    }

    fn needs_refresh(&self, credential: &Credential) -> bool {
        credential.expires_within(now_ms(), self.settings.refresh_margin.as_millis() as i64)
    }

    /// Exactly one refresher across every process sharing the source: the source's own
    /// [`RefreshCoordinator`](crate::providers::RefreshCoordinator) when it has one (Vault: a
    /// cas claim in KV), else a lock file on this machine. Everyone else waits and reads the
    /// new tokens.
    async fn refresh_coordinated(
        &self,
        name: &str,
        resolved: &Resolved,
        refresher: &dyn Refresher,
    ) -> Result<Arc<Resolved>> {
        let source = &resolved.credential.source;
        if let Some(error) = borrowed_token_expired(&resolved.credential)
            .or_else(|| openclaw_owned_token_expired(&resolved.credential))
        {
            return Err(error);
        }
        let provider = self
            .provider_by_id(source.provider)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::RefreshFailed,
                    format!(
                        "credential \"{name}\": its source {} is not in the chain",
                        source.provider
                    ),
                )
            })?;
        if !provider.writable() {
            return Err(Error::new(
                ErrorCode::RefreshFailed,
                format!(
                    "credential \"{name}\" expires soon but its source {} ({}) is read-only; refresh it there or move it to Vault",
                    source.provider, source.location
                ),
            ));
        }
        if let Some(coordinator) = provider.refresh_coordinator() {
            let claim = coordinator.refresh_claim(name, self.settings.claim_ttl)?;
            return self
                .refresh_with_claim(name, provider.as_ref(), claim.as_ref(), refresher)
                .await;
        }
        self.refresh_locally(name, provider, refresher).await
    }

    /// Under a lock file in `lock_dir` (one per provider and name): reads the credential again,
    /// and refreshes and writes it back only if it still needs it.
    async fn refresh_locally(
        &self,
        name: &str,
        provider: Arc<dyn CredentialProvider>,
        refresher: &dyn Refresher,
    ) -> Result<Arc<Resolved>> {
        let lock_target = self.settings.lock_dir.join(format!(
            "refresh-{}-{}",
            provider.id(),
            name.replace(['/', ':'], "_")
        ));
        let wait = self.settings.lock_wait;
        let lock = tokio::task::spawn_blocking(move || {
            crate::local_file::PrivateLock::acquire(&lock_target, wait)
        })
        .await
        .map_err(|_| Error::new(ErrorCode::RefreshFailed, "the lock task failed"))??;
        // Whoever held the lock before may have refreshed already: read again under the lock.
        let current = provider.get(name).await?.ok_or_else(|| {
            Error::new(
                ErrorCode::RefreshFailed,
                format!(
                    "credential \"{name}\" disappeared from {} during the refresh",
                    provider.id()
                ),
            )
        })?;
        if !self.needs_refresh(&current) {
            drop(lock);
            return Ok(self.fresh(current));
        }
        let updated = self.call_refresher(name, &current, refresher).await?;
        let outcome = self
            .write_back(name, provider.as_ref(), &current, updated)
            .await;
        drop(lock);
        outcome
    }

    /// Writes the refreshed `updated` back with cas on `current`'s version. When another writer
    /// won that cas (`CAS_MISMATCH`), reads the credential again and returns the winner's value
    /// if it has not expired, leaving it in place; otherwise the error stands.
    async fn write_back(
        &self,
        name: &str,
        provider: &dyn CredentialProvider,
        current: &Credential,
        mut updated: Credential,
    ) -> Result<Arc<Resolved>> {
        // Nothing is written when the refresh answered a redaction placeholder.
        crate::placeholder::refuse_in_credential(
            &updated,
            &format!("the refreshed tokens of credential \"{name}\""),
        )?;
        let version = provider.put(&updated, Some(&current.version)).await;
        match self.audit_write_back(name, provider.id(), version) {
            Ok(version) => {
                updated.version = version;
                Ok(self.fresh(updated))
            }
            Err(e) if e.code == ErrorCode::CasMismatch => match provider.get(name).await {
                Ok(Some(winner)) if !winner.expires_within(now_ms(), 0) => {
                    tracing::info!(
                        name,
                        provider = provider.id(),
                        "another writer stored new tokens first; using theirs"
                    );
                    Ok(self.fresh(winner))
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    fn audit_write_back(
        &self,
        name: &str,
        provider: &'static str,
        result: Result<CredentialVersion>,
    ) -> Result<CredentialVersion> {
        self.audit(
            AuditRecord::new(AuditEvent::Put, name)
                .source(provider, None)
                .result(&result),
        );
        result
    }

    async fn call_refresher(
        &self,
        name: &str,
        current: &Credential,
        refresher: &dyn Refresher,
    ) -> Result<Credential> {
        if current.secrets.get(fields::REFRESH_TOKEN).is_none() {
            return Err(Error::new(
                ErrorCode::RefreshFailed,
                format!("credential \"{name}\" has no refresh token to trade"),
            ));
        }
        let result = refresher.refresh(current).await;
        self.audit(
            AuditRecord::new(AuditEvent::Refresh, name)
                .source(current.source.provider, Some(&current.source.location))
                .result(&result),
        );
        let tokens = result.map_err(|e| {
            if e.code == ErrorCode::RefreshFailed {
                e
            } else {
                Error::new(
                    ErrorCode::RefreshFailed,
                    format!("refreshing credential \"{name}\" failed: {}", e.message),
                )
            }
        })?;
        if tokens.access_token.expose_secret().is_empty() {
            return Err(Error::new(
                ErrorCode::RefreshFailed,
                format!("the refresh of credential \"{name}\" returned an empty accessToken"),
            ));
        }
        let mut updated = current.clone();
        updated
            .secrets
            .insert(fields::ACCESS_TOKEN, tokens.access_token);
        if let Some(r) = tokens.refresh_token {
            updated.secrets.insert(fields::REFRESH_TOKEN, r);
        }
        if let Some(i) = tokens.id_token {
            updated.secrets.insert(fields::ID_TOKEN, i);
        }
        updated.expires_at = tokens.expires_at;
        Ok(updated)
    }

    /// Through the source's claim: the holder reads the credential again, refreshes it if it
    /// still needs it and writes it back with cas on the version it read; everyone else polls
    /// the source until the new tokens are there, or `lock_wait` runs out (`LOCK_TIMEOUT`).
    async fn refresh_with_claim(
        &self,
        name: &str,
        provider: &dyn CredentialProvider,
        claim: &dyn RefreshClaim,
        refresher: &dyn Refresher,
    ) -> Result<Arc<Resolved>> {
        let deadline = Instant::now() + self.settings.lock_wait;
        let mut pause = Duration::from_millis(25);
        loop {
            if claim.try_acquire().await? {
                let outcome = async {
                    let current = provider.get(name).await?.ok_or_else(|| {
                        Error::new(
                            ErrorCode::RefreshFailed,
                            format!(
                                "credential \"{name}\" disappeared from {} during the refresh",
                                provider.id()
                            ),
                        )
                    })?;
                    if !self.needs_refresh(&current) {
                        return Ok(self.fresh(current));
                    }
                    let updated = self.call_refresher(name, &current, refresher).await?;
                    self.write_back(name, provider, &current, updated).await
                }
                .await;
                claim.release().await;
                return outcome;
            }
            // Someone else holds the claim: wait for their new tokens.
            if let Some(current) = provider.get(name).await? {
                if !self.needs_refresh(&current) {
                    return Ok(self.fresh(current));
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorCode::LockTimeout,
                    format!(
                        "credential \"{name}\": another process held the refresh claim for more than {} ms without writing new tokens",
                        self.settings.lock_wait.as_millis()
                    ),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(400));
        }
    }
}
