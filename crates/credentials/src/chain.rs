//! `getCredential`: walks the providers in order (Vault, keychain, local files, env by default),
//! caches what it finds, serves the last known good value while Vault is unreachable, refreshes
//! OAuth tokens with one refresher across every process, and audits each access.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::audit::{AuditEvent, AuditLog, AuditRecord};
use crate::cache::{self, Cache, CachePolicy, Lookup, Resolved};
use crate::credential::{fields, Credential, CredentialKind, SourceGroup};
use crate::error::{Error, ErrorCode, Result};
use crate::providers::vault::VaultProvider;
use crate::providers::{CredentialProvider, Listing};
use crate::time::now_ms;

/// What happens when Vault is configured but fails (unreachable, denied, sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Go on to the local sources (and say so in the audit log).
    Local,
    /// Fail: a Vault failure is an error, never a silent fallback.
    None,
}

/// The chain's settings; `ChainSettings::default()` is what an empty config gives.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    pub order: Vec<SourceGroup>,
    pub fallback: Fallback,
    pub cache: CachePolicy,
    /// An OAuth credential this close to `expiresAt` is refreshed (when a refresher is given).
    pub refresh_margin: Duration,
    /// The longest a caller waits for another process's refresh (lease or lock).
    pub lock_wait: Duration,
    /// How long a Vault refresh lease is valid if its holder dies.
    pub lease_ttl: Duration,
    /// Where lock files for refreshes of non-file sources live.
    pub lock_dir: std::path::PathBuf,
}

impl Default for ChainSettings {
    fn default() -> Self {
        ChainSettings {
            order: SourceGroup::DEFAULT_ORDER.to_vec(),
            fallback: Fallback::Local,
            cache: CachePolicy::default(),
            refresh_margin: Duration::from_secs(300),
            lock_wait: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(30),
            lock_dir: default_lock_dir(),
        }
    }
}

fn default_lock_dir() -> std::path::PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("openclaw-vault-{uid}"))
}

/// New tokens from an OAuth refresh.
pub struct RefreshedTokens {
    pub access_token: SecretString,
    /// `None` keeps the old refresh token (many providers do not rotate it).
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<SecretString>,
    /// Epoch milliseconds.
    pub expires_at: Option<i64>,
}

/// Trades a refresh token for new tokens (in Node: the caller's `refresh` callback).
#[async_trait]
pub trait Refresher: Send + Sync {
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

/// Per-call options of `get`.
#[derive(Default, Clone)]
pub struct GetOptions {
    /// Overrides the configured source order for this call.
    pub order: Option<Vec<SourceGroup>>,
    /// Skip the cache (the result is still stored).
    pub no_cache: bool,
    /// Refresh an OAuth credential that is expired or near expiry.
    pub refresher: Option<Arc<dyn Refresher>>,
}

/// Names a provider holds, for `listCredentials`.
#[derive(Debug, Clone)]
pub struct ListedCredential {
    pub name: String,
    /// `(provider id, location)` for every source holding the name, in chain order.
    pub sources: Vec<(&'static str, String)>,
}

/// The result of `list`: what was found, and the sources that could not be listed.
#[derive(Debug, Default)]
pub struct CredentialList {
    pub credentials: Vec<ListedCredential>,
    pub errors: Vec<(&'static str, Error)>,
}

/// The credential chain. Cheap to share (`Arc`); every method takes `&self`.
pub struct CredentialChain {
    providers: Vec<Arc<dyn CredentialProvider>>,
    vault: Option<Arc<VaultProvider>>,
    settings: ChainSettings,
    /// `order_signature(settings.order)`, computed once for the fast path.
    default_signature: String,
    cache: Cache,
    audit: Option<AuditLog>,
}

impl std::fmt::Debug for CredentialChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialChain")
            .field(
                "providers",
                &self.providers.iter().map(|p| p.id()).collect::<Vec<_>>(),
            )
            .field("settings", &self.settings)
            .finish()
    }
}

/// Vault answers that mean "cannot be reached right now", when a stale value may be served.
fn unreachable(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Network
            | ErrorCode::Timeout
            | ErrorCode::ServerError
            | ErrorCode::Sealed
            | ErrorCode::RateLimited
    )
}

/// Checks a credential name: what the Vault layout and the audit log can carry.
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:/-@".contains(c))
        && !name
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_argument(format!(
            "credential name {name:?} is not valid: use letters, digits and . _ : / - @ (at most 256), no empty, `.` or `..` segments"
        )))
    }
}

fn order_signature(order: &[SourceGroup]) -> String {
    order
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

impl CredentialChain {
    /// `providers` in their order within each group; `vault` is also in `providers` when set.
    pub fn new(
        providers: Vec<Arc<dyn CredentialProvider>>,
        vault: Option<Arc<VaultProvider>>,
        settings: ChainSettings,
        audit: Option<AuditLog>,
    ) -> Self {
        let cache = Cache::new(settings.cache);
        CredentialChain {
            providers,
            vault,
            default_signature: order_signature(&settings.order),
            settings,
            cache,
            audit,
        }
    }

    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    pub fn vault(&self) -> Option<&Arc<VaultProvider>> {
        self.vault.as_ref()
    }

    pub fn providers(&self) -> &[Arc<dyn CredentialProvider>] {
        &self.providers
    }

    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// The providers `order` selects, group by group.
    fn ordered(&self, order: &[SourceGroup]) -> Vec<&Arc<dyn CredentialProvider>> {
        order
            .iter()
            .flat_map(|g| self.providers.iter().filter(move |p| p.group() == *g))
            .collect()
    }

    fn provider_by_id(&self, id: &str) -> Option<&Arc<dyn CredentialProvider>> {
        self.providers.iter().find(|p| p.id() == id)
    }

    fn audit(&self, record: AuditRecord<'_>) {
        if let Some(log) = &self.audit {
            log.record(&record);
        }
    }

    fn audit_resolved(&self, name: &str, resolved: &Resolved, outcome: &str) {
        self.audit(AuditRecord {
            event: AuditEvent::Get,
            credential: name,
            source: Some(resolved.credential.source.provider),
            location: Some(&resolved.credential.source.location),
            outcome,
            request_id: resolved.credential.request_id.as_deref(),
            detail: None,
        });
    }

    /// The synchronous fast path of `get` with the default order and the cache allowed: a fresh
    /// cached value for `name`, or `None` when `get` must run: an upstream read is needed, or
    /// the caller has a refresher (`with_refresher`) and the value is due for refresh
    /// ([`Self::should_refresh`]).
    pub fn get_cached(&self, name: &str, with_refresher: bool) -> Option<Arc<Resolved>> {
        let key = cache::key(name, &self.default_signature);
        match self.cache.lookup(&key, Instant::now()) {
            Lookup::Fresh {
                resolved,
                refresh_due: false,
            } => {
                self.audit_resolved(name, &resolved, "cached");
                let refresh = with_refresher && self.should_refresh(&resolved.credential);
                (!refresh).then_some(resolved)
            }
            _ => None,
        }
    }

    /// True when `get` with a refresher refreshes `credential` before returning it: an OAuth
    /// credential that expires within `settings.refresh_margin` of now, or has expired.
    pub fn should_refresh(&self, credential: &Credential) -> bool {
        credential.kind == CredentialKind::OAuth && self.needs_refresh(credential)
    }

    /// Resolves `name`: from the cache when fresh, else from the first source that holds it.
    pub async fn get(self: &Arc<Self>, name: &str, options: &GetOptions) -> Result<Arc<Resolved>> {
        check_name(name)?;
        let order = options
            .order
            .clone()
            .unwrap_or_else(|| self.settings.order.clone());
        let key = cache::key(name, &order_signature(&order));
        let slot = self.cache.slot(&key);

        if !options.no_cache {
            if let Lookup::Fresh {
                resolved,
                refresh_due,
            } = Cache::lookup_slot(&slot, Instant::now())
            {
                if refresh_due && Cache::claim_refresh(&slot) {
                    self.spawn_refresh_ahead(name, order.clone(), slot.clone());
                }
                self.audit_resolved(name, &resolved, "cached");
                return self.maybe_refresh(name, &order, resolved, options).await;
            }
        }

        let resolved = {
            let _flight = slot.flight.lock().await;
            // Another caller may have filled the slot while this one waited: single flight.
            let last_good = match Cache::lookup_slot(&slot, Instant::now()) {
                Lookup::Fresh { resolved, .. } if !options.no_cache => {
                    self.audit_resolved(name, &resolved, "cached");
                    return self.maybe_refresh(name, &order, resolved, options).await;
                }
                Lookup::Fresh { resolved, .. } => Some(resolved),
                Lookup::Miss { last_good } => last_good,
            };
            let resolved = self.fetch(name, &order, last_good).await?;
            self.cache.store(&slot, resolved.clone(), Instant::now());
            resolved
        };
        self.maybe_refresh(name, &order, resolved, options).await
    }

    fn spawn_refresh_ahead(
        self: &Arc<Self>,
        name: &str,
        order: Vec<SourceGroup>,
        slot: Arc<cache::Slot>,
    ) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            Cache::release_refresh(&slot);
            return;
        };
        let chain = Arc::downgrade(self);
        let name = name.to_string();
        handle.spawn(async move {
            let Some(chain) = chain.upgrade() else { return };
            let _flight = slot.flight.lock().await;
            let last_good = match Cache::lookup_slot(&slot, Instant::now()) {
                Lookup::Fresh { resolved, .. } => Some(resolved),
                Lookup::Miss { last_good } => last_good,
            };
            match chain.fetch(&name, &order, last_good).await {
                Ok(resolved) if !resolved.stale => {
                    chain.cache.store(&slot, resolved, Instant::now())
                }
                _ => Cache::release_refresh(&slot),
            }
        });
    }

    /// One walk of the sources. `last_good` is served, marked stale, when Vault is unreachable
    /// and it came from Vault within the allowed age.
    async fn fetch(
        &self,
        name: &str,
        order: &[SourceGroup],
        last_good: Option<Arc<Resolved>>,
    ) -> Result<Arc<Resolved>> {
        let mut tried: Vec<String> = Vec::new();
        for provider in self.ordered(order) {
            match provider.get(name).await {
                Ok(Some(credential)) => {
                    let resolved = Arc::new(Resolved {
                        credential,
                        stale: false,
                        fetched_at: Instant::now(),
                        generation: self.cache.next_generation(),
                    });
                    self.audit_resolved(name, &resolved, "ok");
                    return Ok(resolved);
                }
                Ok(None) => tried.push(format!("{}: not found", provider.id())),
                Err(e) => {
                    let is_vault = provider.group() == SourceGroup::Vault;
                    if is_vault
                        && matches!(
                            e.code,
                            ErrorCode::PermissionDenied | ErrorCode::InvalidToken
                        )
                    {
                        self.audit(AuditRecord {
                            event: AuditEvent::Denial,
                            credential: name,
                            source: Some(provider.id()),
                            location: e.path.as_deref(),
                            outcome: e.code(),
                            request_id: e.request_id.as_deref(),
                            detail: Some(&e.message),
                        });
                    }
                    if is_vault && unreachable(&e) {
                        if let Some(last) = last_good.as_ref().filter(|l| {
                            l.credential.source.group == SourceGroup::Vault
                                && self.cache.usable_when_stale(l, Instant::now())
                        }) {
                            let stale = Arc::new(Resolved {
                                credential: last.credential.clone(),
                                stale: true,
                                fetched_at: last.fetched_at,
                                generation: last.generation,
                            });
                            tracing::warn!(
                                credential = name,
                                code = e.code(),
                                "Vault unreachable; serving the last known good value"
                            );
                            self.audit(AuditRecord {
                                event: AuditEvent::Get,
                                credential: name,
                                source: Some("vault"),
                                location: Some(&last.credential.source.location),
                                outcome: "stale",
                                request_id: None,
                                detail: Some(&e.message),
                            });
                            return Ok(stale);
                        }
                    }
                    if is_vault && self.settings.fallback == Fallback::None {
                        self.audit(AuditRecord {
                            event: AuditEvent::Get,
                            credential: name,
                            source: Some(provider.id()),
                            location: e.path.as_deref(),
                            outcome: e.code(),
                            request_id: e.request_id.as_deref(),
                            detail: Some(&e.message),
                        });
                        return Err(e);
                    }
                    if e.code == ErrorCode::SourceUnavailable
                        && provider.group() == SourceGroup::Keychain
                    {
                        // A machine without a keychain (a headless server) is normal, not news.
                        tracing::debug!(credential = name, source = provider.id(), error = %e.message, "keychain not available; trying the next source");
                    } else {
                        tracing::warn!(credential = name, source = provider.id(), code = e.code(), error = %e.message, "credential source failed; trying the next one");
                    }
                    self.audit(AuditRecord {
                        event: AuditEvent::Fallback,
                        credential: name,
                        source: Some(provider.id()),
                        location: e.path.as_deref(),
                        outcome: e.code(),
                        request_id: e.request_id.as_deref(),
                        detail: Some(&e.message),
                    });
                    tried.push(format!("{}: {} ({})", provider.id(), e.code(), e.message));
                }
            }
        }
        self.audit(AuditRecord {
            event: AuditEvent::Get,
            credential: name,
            source: None,
            location: None,
            outcome: ErrorCode::CredentialNotFound.as_str(),
            request_id: None,
            detail: None,
        });
        let groups: Vec<&str> = order.iter().map(|g| g.as_str()).collect();
        let mut err = Error::new(
            ErrorCode::CredentialNotFound,
            format!(
                "credential \"{name}\" was not found in any source (order: {}); tried: {}",
                groups.join(", "),
                if tried.is_empty() {
                    "no source is configured for these groups".to_string()
                } else {
                    tried.join("; ")
                }
            ),
        );
        err.errors = tried;
        Err(err)
    }

    /// Drops every cached value.
    pub fn clear_cache(&self) {
        self.cache.clear();
    }

    /// Drops cached values of `name` (after a write, or when a watcher saw a change).
    pub fn invalidate(&self, name: &str) {
        self.cache.invalidate(name);
    }

    /// Which names exist where, without values. Sources that fail are reported, not fatal.
    pub async fn list(&self, order: Option<&[SourceGroup]>) -> CredentialList {
        let order = order.unwrap_or(&self.settings.order);
        let mut out = CredentialList::default();
        for provider in self.ordered(order) {
            match provider.list().await {
                Ok(listings) => {
                    for Listing { name, location } in listings {
                        match out.credentials.iter_mut().find(|c| c.name == name) {
                            Some(c) => c.sources.push((provider.id(), location)),
                            None => out.credentials.push(ListedCredential {
                                name,
                                sources: vec![(provider.id(), location)],
                            }),
                        }
                    }
                }
                Err(e) => out.errors.push((provider.id(), e)),
            }
        }
        out.credentials.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Writes `credential` to the source called `provider_id` (default: Vault when configured),
    /// then drops the cached value.
    pub async fn put(
        &self,
        credential: &Credential,
        provider_id: Option<&str>,
    ) -> Result<crate::credential::CredentialVersion> {
        check_name(&credential.name)?;
        let provider: Arc<dyn CredentialProvider> = match provider_id {
            Some(id) => self.provider_by_id(id).cloned().ok_or_else(|| {
                Error::invalid_argument(format!("no credential source called {id:?}"))
            })?,
            None => match &self.vault {
                Some(v) => v.clone(),
                None => {
                    return Err(Error::invalid_config(
                        "no Vault is configured to write to (set credentials.provider to \"vault\" and credentials.vault.addr, or VAULT_ADDR)",
                    ))
                }
            },
        };
        let result = provider.put(credential, None).await;
        self.audit(AuditRecord {
            event: AuditEvent::Put,
            credential: &credential.name,
            source: Some(provider.id()),
            location: None,
            outcome: match &result {
                Ok(_) => "ok",
                Err(e) => e.code(),
            },
            request_id: None,
            detail: result.as_ref().err().map(|e| e.message.as_str()),
        });
        self.invalidate(&credential.name);
        result
    }

    // ---- OAuth refresh -------------------------------------------------------------------

    async fn maybe_refresh(
        self: &Arc<Self>,
        name: &str,
        order: &[SourceGroup],
        resolved: Arc<Resolved>,
        options: &GetOptions,
    ) -> Result<Arc<Resolved>> {
        let Some(refresher) = options.refresher.as_ref() else {
            return Ok(resolved);
        };
        if !self.should_refresh(&resolved.credential) {
            return Ok(resolved);
        }
        let refreshed = self
            .refresh_coordinated(name, &resolved, refresher.as_ref())
            .await?;
        let key = cache::key(name, &order_signature(order));
        let slot = self.cache.slot(&key);
        self.cache.store(&slot, refreshed.clone(), Instant::now());
        Ok(refreshed)
    }

    fn fresh(&self, credential: Credential) -> Arc<Resolved> {
        Arc::new(Resolved {
            credential,
            stale: false,
            fetched_at: Instant::now(),
            generation: self.cache.next_generation(),
        })
    }

    fn needs_refresh(&self, credential: &Credential) -> bool {
        credential.expires_within(now_ms(), self.settings.refresh_margin.as_millis() as i64)
    }

    /// Exactly one refresher across every process sharing the source: a lease written with cas
    /// in Vault, or a lock file for the others. Everyone else waits and reads the new tokens.
    async fn refresh_coordinated(
        &self,
        name: &str,
        resolved: &Resolved,
        refresher: &dyn Refresher,
    ) -> Result<Arc<Resolved>> {
        let source = &resolved.credential.source;
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
        if source.group == SourceGroup::Vault {
            if let Some(vault) = &self.vault {
                return self.refresh_in_vault(name, vault, refresher).await;
            }
        }
        self.refresh_locally(name, provider, refresher).await
    }

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
            crate::local_file::FileLock::acquire(&lock_target, wait)
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
        let version = provider.put(&updated, Some(&current.version)).await;
        drop(lock);
        let version = self.audit_write_back(name, provider.id(), version)?;
        let mut updated = updated;
        updated.version = version;
        Ok(self.fresh(updated))
    }

    fn audit_write_back(
        &self,
        name: &str,
        provider: &'static str,
        result: Result<crate::credential::CredentialVersion>,
    ) -> Result<crate::credential::CredentialVersion> {
        self.audit(AuditRecord {
            event: AuditEvent::Put,
            credential: name,
            source: Some(provider),
            location: None,
            outcome: match &result {
                Ok(_) => "ok",
                Err(e) => e.code(),
            },
            request_id: None,
            detail: result.as_ref().err().map(|e| e.message.as_str()),
        });
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
        self.audit(AuditRecord {
            event: AuditEvent::Refresh,
            credential: name,
            source: Some(current.source.provider),
            location: Some(&current.source.location),
            outcome: match &result {
                Ok(_) => "ok",
                Err(e) => e.code(),
            },
            request_id: None,
            detail: result.as_ref().err().map(|e| e.message.as_str()),
        });
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

    async fn refresh_in_vault(
        &self,
        name: &str,
        vault: &Arc<VaultProvider>,
        refresher: &dyn Refresher,
    ) -> Result<Arc<Resolved>> {
        let lease = crate::refresh_lease::Lease::new(vault.clone(), name, self.settings.lease_ttl)?;
        let deadline = Instant::now() + self.settings.lock_wait;
        let mut pause = Duration::from_millis(25);
        loop {
            if lease.try_acquire().await? {
                let outcome = async {
                    let current = vault.get(name).await?.ok_or_else(|| {
                        Error::new(
                            ErrorCode::RefreshFailed,
                            format!(
                                "credential \"{name}\" disappeared from Vault during the refresh"
                            ),
                        )
                    })?;
                    if !self.needs_refresh(&current) {
                        return Ok(self.fresh(current));
                    }
                    let updated = self.call_refresher(name, &current, refresher).await?;
                    let version = vault.put(&updated, Some(&current.version)).await;
                    let version = self.audit_write_back(name, "vault", version)?;
                    let mut updated = updated;
                    updated.version = version;
                    Ok(self.fresh(updated))
                }
                .await;
                lease.release().await;
                return outcome;
            }
            // Someone else holds the lease: wait for their new tokens.
            if let Some(current) = vault.get(name).await? {
                if !self.needs_refresh(&current) {
                    return Ok(self.fresh(current));
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorCode::LockTimeout,
                    format!(
                        "credential \"{name}\": another process held the refresh lease for more than {} ms without writing new tokens",
                        self.settings.lock_wait.as_millis()
                    ),
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(400));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::{CredentialSource, CredentialVersion, SecretFields};
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    /// An in-memory source: a map of credentials, a read counter, an optional failure, and a
    /// gate that holds reads until opened.
    struct Memory {
        id: &'static str,
        group: SourceGroup,
        items: Mutex<HashMap<String, Credential>>,
        reads: AtomicUsize,
        fail: Mutex<Option<ErrorCode>>,
        gate: tokio::sync::Semaphore,
    }

    impl Memory {
        fn new(id: &'static str, group: SourceGroup) -> Arc<Memory> {
            Arc::new(Memory {
                id,
                group,
                items: Mutex::new(HashMap::new()),
                reads: AtomicUsize::new(0),
                fail: Mutex::new(None),
                gate: tokio::sync::Semaphore::new(tokio::sync::Semaphore::MAX_PERMITS),
            })
        }

        fn insert(&self, name: &str, token: &str, expires_at: Option<i64>) {
            let mut secrets = SecretFields::new();
            let kind = if expires_at.is_some() {
                secrets.insert_str(fields::ACCESS_TOKEN, token);
                secrets.insert_str(fields::REFRESH_TOKEN, "refresh-1");
                CredentialKind::OAuth
            } else {
                secrets.insert_str(fields::TOKEN, token);
                CredentialKind::Token
            };
            self.items.lock().unwrap().insert(
                name.into(),
                Credential {
                    name: name.into(),
                    kind,
                    source: CredentialSource {
                        provider: self.id,
                        group: self.group,
                        location: format!("memory:{name}"),
                        file: None,
                    },
                    expires_at,
                    metadata: Default::default(),
                    secrets,
                    version: CredentialVersion::Vault(1),
                    request_id: None,
                },
            );
        }

        fn fail_with(&self, code: Option<ErrorCode>) {
            *self.fail.lock().unwrap() = code;
        }
    }

    #[async_trait]
    impl CredentialProvider for Memory {
        fn id(&self) -> &'static str {
            self.id
        }
        fn group(&self) -> SourceGroup {
            self.group
        }
        async fn get(&self, name: &str) -> Result<Option<Credential>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            let _permit = self.gate.acquire().await.unwrap();
            if let Some(code) = *self.fail.lock().unwrap() {
                return Err(Error::new(code, "memory source failed"));
            }
            Ok(self.items.lock().unwrap().get(name).cloned())
        }
        async fn list(&self) -> Result<Vec<Listing>> {
            Ok(self
                .items
                .lock()
                .unwrap()
                .keys()
                .map(|k| Listing {
                    name: k.clone(),
                    location: format!("memory:{k}"),
                })
                .collect())
        }
        fn writable(&self) -> bool {
            true
        }
        async fn put(
            &self,
            credential: &Credential,
            _expected: Option<&CredentialVersion>,
        ) -> Result<CredentialVersion> {
            self.items
                .lock()
                .unwrap()
                .insert(credential.name.clone(), credential.clone());
            Ok(CredentialVersion::Vault(2))
        }
    }

    fn chain_of(providers: Vec<Arc<Memory>>, settings: ChainSettings) -> Arc<CredentialChain> {
        let providers = providers
            .into_iter()
            .map(|p| p as Arc<dyn CredentialProvider>)
            .collect();
        Arc::new(CredentialChain::new(providers, None, settings, None))
    }

    fn token_of(r: &Resolved) -> String {
        r.credential.primary().unwrap().expose_secret().to_string()
    }

    #[tokio::test]
    async fn walks_the_order_and_lists_what_it_tried() {
        let vault = Memory::new("vault", SourceGroup::Vault);
        let files = Memory::new("claude-code", SourceGroup::Files);
        let env = Memory::new("env", SourceGroup::Env);
        files.insert("telegram", "from-files", None);
        env.insert("telegram", "from-env", None);
        let chain = chain_of(vec![vault.clone(), files, env], ChainSettings::default());
        let r = chain.get("telegram", &GetOptions::default()).await.unwrap();
        assert_eq!(token_of(&r), "from-files");
        assert_eq!(r.credential.source.provider, "claude-code");
        // A per-call order skips groups.
        let r = chain
            .get(
                "telegram",
                &GetOptions {
                    order: Some(vec![SourceGroup::Env]),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(token_of(&r), "from-env");
        let err = chain
            .get("discord", &GetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "CREDENTIAL_NOT_FOUND");
        assert_eq!(
            err.errors,
            vec![
                "vault: not found",
                "claude-code: not found",
                "env: not found"
            ]
        );
        assert_eq!(
            chain
                .get("../x", &GetOptions::default())
                .await
                .unwrap_err()
                .code(),
            "INVALID_ARGUMENT"
        );
        let listed = chain.list(None).await;
        assert_eq!(listed.credentials.len(), 1);
        assert_eq!(listed.credentials[0].sources.len(), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_misses_make_one_read_and_hits_make_none() {
        let vault = Memory::new("vault", SourceGroup::Vault);
        vault.insert("anthropic", "v1", None);
        let held = vault
            .gate
            .acquire_many(tokio::sync::Semaphore::MAX_PERMITS as u32)
            .await
            .unwrap();
        let chain = chain_of(vec![vault.clone()], ChainSettings::default());
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let chain = chain.clone();
                tokio::spawn(async move { chain.get("anthropic", &GetOptions::default()).await })
            })
            .collect();
        // Let every task reach the gate or the flight lock, then open the gate.
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        drop(held);
        for t in tasks {
            assert_eq!(token_of(&t.await.unwrap().unwrap()), "v1");
        }
        assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
        assert!(chain.get_cached("anthropic", false).is_some());
        chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        assert_eq!(vault.reads.load(Ordering::SeqCst), 1);
        chain.invalidate("anthropic");
        assert!(chain.get_cached("anthropic", false).is_none());
    }

    #[tokio::test]
    async fn serves_last_known_good_while_vault_is_unreachable() {
        let vault = Memory::new("vault", SourceGroup::Vault);
        let files = Memory::new("claude-code", SourceGroup::Files);
        vault.insert("anthropic", "from-vault", None);
        files.insert("anthropic", "from-files", None);
        let mut settings = ChainSettings::default();
        settings.cache.ttl = Duration::ZERO;
        let chain = chain_of(vec![vault.clone(), files.clone()], settings.clone());
        assert!(
            !chain
                .get("anthropic", &GetOptions::default())
                .await
                .unwrap()
                .stale
        );
        vault.fail_with(Some(ErrorCode::Network));
        let r = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        assert!(r.stale);
        assert_eq!(token_of(&r), "from-vault");
        // Denied is not "unreachable": the chain falls back instead.
        vault.fail_with(Some(ErrorCode::PermissionDenied));
        let r = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        assert_eq!(token_of(&r), "from-files");

        // Past the maximum age, the fallback is used.
        settings.cache.max_stale = Duration::ZERO;
        let chain = chain_of(vec![vault.clone(), files.clone()], settings.clone());
        vault.fail_with(None);
        chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        vault.fail_with(Some(ErrorCode::Network));
        let r = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        assert!(!r.stale);
        assert_eq!(token_of(&r), "from-files");

        // fallback: none turns a Vault failure into an error.
        settings.fallback = Fallback::None;
        let chain = chain_of(vec![vault.clone(), files], settings);
        let err = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "NETWORK");
    }

    struct CountingRefresher {
        calls: AtomicUsize,
    }

    #[async_trait]
    impl Refresher for CountingRefresher {
        async fn refresh(&self, credential: &Credential) -> Result<RefreshedTokens> {
            assert_eq!(
                credential
                    .secrets
                    .get(fields::REFRESH_TOKEN)
                    .unwrap()
                    .expose_secret(),
                "refresh-1"
            );
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::task::yield_now().await;
            Ok(RefreshedTokens {
                access_token: SecretString::from(format!("access-{n}")),
                refresh_token: None,
                id_token: None,
                expires_at: Some(now_ms() + 3_600_000),
            })
        }
    }

    #[tokio::test]
    async fn an_expiring_local_credential_is_refreshed_once() {
        let files = Memory::new("claude-code", SourceGroup::Files);
        files.insert("anthropic", "old", Some(now_ms() - 1));
        let dir = std::env::temp_dir().join(format!("ocv-chain-lock-{}", std::process::id()));
        let settings = ChainSettings {
            lock_dir: dir.clone(),
            ..ChainSettings::default()
        };
        let chain = chain_of(vec![files.clone()], settings);
        let refresher = Arc::new(CountingRefresher {
            calls: AtomicUsize::new(0),
        });
        let options = GetOptions {
            refresher: Some(refresher.clone()),
            ..Default::default()
        };
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let chain = chain.clone();
                let options = options.clone();
                tokio::spawn(async move { chain.get("anthropic", &options).await })
            })
            .collect();
        for t in tasks {
            let r = t.await.unwrap().unwrap();
            assert_eq!(token_of(&r), "access-1");
        }
        assert_eq!(refresher.calls.load(Ordering::SeqCst), 1);
        // Written back to the source, refresh token kept.
        let stored = files.items.lock().unwrap()["anthropic"].clone();
        assert_eq!(stored.primary().unwrap().expose_secret(), "access-1");
        assert_eq!(
            stored
                .secrets
                .get(fields::REFRESH_TOKEN)
                .unwrap()
                .expose_secret(),
            "refresh-1"
        );
        // Without a refresher the expired credential is returned as it is.
        files.insert("anthropic", "old", Some(now_ms() - 1));
        chain.invalidate("anthropic");
        let r = chain
            .get("anthropic", &GetOptions::default())
            .await
            .unwrap();
        assert_eq!(token_of(&r), "old");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_fast_path_leaves_a_due_oauth_credential_to_get_when_a_refresher_is_given() {
        let files = Memory::new("claude-code", SourceGroup::Files);
        files.insert("expiring", "access-old", Some(now_ms() + 1_000));
        files.insert("lasting", "access-ok", Some(now_ms() + 3_600_000));
        files.insert("telegram", "token", None);
        let chain = chain_of(vec![files], ChainSettings::default());
        for name in ["expiring", "lasting", "telegram"] {
            assert!(
                chain.get_cached(name, false).is_none(),
                "nothing cached yet"
            );
            chain.get(name, &GetOptions::default()).await.unwrap();
            assert!(chain.get_cached(name, false).is_some(), "{name}");
        }
        assert!(chain.get_cached("expiring", true).is_none());
        assert!(chain.get_cached("lasting", true).is_some());
        assert!(chain.get_cached("telegram", true).is_some());
        let expiring = chain.get_cached("expiring", false).unwrap();
        assert!(chain.should_refresh(&expiring.credential));
        // The rule is the kind and the margin: a token credential never refreshes.
        let mut token = expiring.credential.clone();
        token.kind = CredentialKind::Token;
        assert!(!chain.should_refresh(&token));
        token.kind = CredentialKind::OAuth;
        token.expires_at = None;
        assert!(!chain.should_refresh(&token));
    }

    fn oauth_credential() -> Credential {
        let memory = Memory::new("claude-code", SourceGroup::Files);
        memory.insert("anthropic", "sk-ant-oat01-FAKE-access", Some(1));
        let credential = memory.items.lock().unwrap()["anthropic"].clone();
        credential
    }

    #[test]
    fn refresh_answers_become_tokens_with_an_expiry_in_epoch_ms() {
        let credential = oauth_credential();
        let answer = |at: Option<f64>, secs: Option<f64>| RefreshAnswer {
            access_token: "sk-ant-oat01-FAKE-new".into(),
            refresh_token: Some("sk-ant-ort01-FAKE-new".into()),
            id_token: None,
            expires_at_ms: at,
            expires_in_secs: secs,
        };
        let tokens = answer(Some(1_900_000_000_000.0), Some(60.0))
            .into_tokens(&credential, 5_000)
            .unwrap();
        assert_eq!(tokens.expires_at, Some(1_900_000_000_000), "expiresAt wins");
        assert_eq!(tokens.access_token.expose_secret(), "sk-ant-oat01-FAKE-new");
        assert_eq!(
            tokens.refresh_token.unwrap().expose_secret(),
            "sk-ant-ort01-FAKE-new"
        );
        let tokens = answer(None, Some(3600.0))
            .into_tokens(&credential, 5_000)
            .unwrap();
        assert_eq!(
            tokens.expires_at,
            Some(3_605_000),
            "expiresIn is seconds from now"
        );
        let tokens = answer(None, None).into_tokens(&credential, 5_000).unwrap();
        assert_eq!(tokens.expires_at, None);
        for (at, secs) in [
            (Some(-1.0), None),
            (Some(f64::NAN), None),
            (None, Some(0.0)),
            (None, Some(f64::INFINITY)),
            (Some(0.0), Some(-5.0)),
        ] {
            let Err(err) = answer(at, secs).into_tokens(&credential, 5_000) else {
                panic!("{at:?} {secs:?} accepted");
            };
            assert_eq!(err.code(), "REFRESH_FAILED", "{at:?} {secs:?}");
            assert!(err.message.contains("expiresAt must be epoch milliseconds"));
            assert!(err.message.contains("\"anthropic\""));
        }
    }

    #[test]
    fn a_failed_callback_is_refresh_failed_without_the_tokens() {
        let credential = oauth_credential();
        let err = refresh_callback_failed(
            &credential,
            "token endpoint said no to sk-ant-oat01-FAKE-access (refresh refresh-1)",
        );
        assert_eq!(err.code(), "REFRESH_FAILED");
        assert_eq!(
            err.message,
            "the refresh callback for credential \"anthropic\" failed: token endpoint said no to [REDACTED] (refresh [REDACTED])"
        );
        // Long reasons are cut after redaction, so no secret survives half-cut.
        let long = format!("{}sk-ant-oat01-FAKE-access", "x".repeat(290));
        let err = refresh_callback_failed(&credential, &long);
        assert!(!err.message.contains("sk-ant"), "{}", err.message);
        assert!(err.message.ends_with("[REDACTED]"));
        let reason = err.message.split(": ").nth(1).unwrap();
        assert_eq!(reason.chars().count(), 300);
    }
}
