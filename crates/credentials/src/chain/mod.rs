//! `getCredential`: walks the providers in order (Vault, keychain, local files, env by default),
//! caches what it finds, serves the last known good value while a remote store is unreachable,
//! refreshes OAuth tokens with one refresher across every process ([`refresh`]), and audits each
//! access.
//!
//! The rules for failures follow a provider's [`ProviderKind`], never its id: a remote store
//! (Vault) is asked within a deadline and through a circuit breaker of its own
//! ([`crate::breaker`]), is served stale while unreachable, obeys `fallback: "none"` and has its
//! denials audited; a local source that fails is skipped.

mod refresh;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::audit::{AuditEvent, AuditLog, AuditRecord};
use crate::breaker::{BreakerPolicy, BreakerStatus, CircuitBreaker, DEFAULT_LOOKUP_TIMEOUT};
use crate::cache::{self, Cache, CachePolicy, LayerAnswer, LayerCache, Lookup, Resolved};
use crate::credential::{Credential, CredentialVersion, SourceGroup};
use crate::error::{Error, ErrorCode, Result};
use crate::layers::LayerContext;
use crate::providers::vault::VaultProvider;
use crate::providers::{CredentialProvider, HistoryMatch, KeptCredential, Listing, ProviderKind};

pub use refresh::{
    borrowed_token_expired, openclaw_owned_token_expired, refresh_callback_failed, RefreshAnswer,
    RefreshedTokens, Refresher,
};

pub use crate::credential::Fallback;

/// The chain's settings; `ChainSettings::default()` is what an empty config gives.
#[derive(Debug, Clone)]
pub struct ChainSettings {
    /// The groups asked, in order (`order` in the config; default vault, keychain, files, env).
    pub order: Vec<SourceGroup>,
    /// What a remote store's failure does.
    pub fallback: Fallback,
    /// TTLs of the cache.
    pub cache: CachePolicy,
    /// An OAuth credential this close to `expiresAt` is refreshed (when a refresher is given).
    pub refresh_margin: Duration,
    /// The longest a caller waits for another process's refresh (claim or lock).
    pub lock_wait: Duration,
    /// How long a refresh claim in a remote store stays valid if its holder dies.
    pub claim_ttl: Duration,
    /// Where lock files for refreshes of sources without a coordinator live.
    pub lock_dir: std::path::PathBuf,
    /// The longest one remote store's lookup of one name may take (login and retries
    /// included) before it counts as unreachable (`TIMEOUT`) and opens the store's breaker;
    /// default [`DEFAULT_LOOKUP_TIMEOUT`] (1.5 s).
    pub lookup_timeout: Duration,
    /// The circuit breaker's cool-downs and probe deadline (see [`crate::breaker`]).
    pub breaker: BreakerPolicy,
    /// The agent and team every lookup is for unless a call names its own (`agent` and `team`
    /// in openclaw-vault.json); empty by default: the default layer only ([`crate::layers`]).
    pub layers: LayerContext,
    /// `migrate`'s journal (`<stateDir>/vault-migrate.journal`): which Vault version each name
    /// was copied to from OpenClaw on this machine, the evidence that OpenClaw's copy changed
    /// since ([`CredentialChain::live_copy`]). `None` (the default): no such evidence.
    pub migrate_journal: Option<std::path::PathBuf>,
}

impl Default for ChainSettings {
    fn default() -> Self {
        ChainSettings {
            order: SourceGroup::DEFAULT_ORDER.to_vec(),
            fallback: Fallback::Local,
            cache: CachePolicy::default(),
            refresh_margin: Duration::from_secs(300),
            lock_wait: Duration::from_secs(30),
            claim_ttl: Duration::from_secs(30),
            lock_dir: default_lock_dir(),
            lookup_timeout: DEFAULT_LOOKUP_TIMEOUT,
            breaker: BreakerPolicy::default(),
            layers: LayerContext::default(),
            migrate_journal: None,
        }
    }
}

fn default_lock_dir() -> std::path::PathBuf {
    // SAFETY: getuid has no preconditions.
    let uid = unsafe { libc::getuid() };
    std::env::temp_dir().join(format!("openclaw-vault-{uid}"))
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
    /// The agent and/or team this lookup is for, each over the configured one
    /// ([`ChainSettings::layers`]): a layered store is asked agent, team, default.
    pub layers: LayerContext,
}

/// A name, for `listCredentials`: every source that holds it.
#[derive(Debug, Clone)]
pub struct ListedCredential {
    /// The credential name.
    pub name: String,
    /// Every source holding the name, in chain order (never empty).
    pub sources: Vec<ListedSource>,
}

impl ListedCredential {
    /// The source `get` answers this name from with the same order: the first in the chain's
    /// precedence. `get` fails instead, naming this source, when the value there is a
    /// redaction placeholder; it asks a later source only when this one cannot be read at that
    /// moment (unreachable, unreadable), as `fallback` allows.
    pub fn answered_by(&self) -> &ListedSource {
        &self.sources[0]
    }
}

/// One source holding a listed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSource {
    /// The provider id (`vault`, `claude-code`, ...).
    pub provider: &'static str,
    /// Where inside it (file and JSON path, Vault path, variable, keychain item).
    pub location: String,
    /// The layer of a layered store (`agent:<id>`, `team:<name>`, `default`), when the listing
    /// named an agent or a team.
    pub layer: Option<String>,
}

/// A source that could not be listed (by `list`, or by `migrate`'s plan: its credentials are then
/// not in the plan).
#[derive(Debug, Clone)]
pub struct SourceError {
    /// The provider id.
    pub provider: &'static str,
    /// Why (never a value).
    pub error: Error,
}

impl SourceError {
    /// True when the source holds something unusable (a malformed file): the run has failed. A
    /// source that is simply not there on this machine (`SOURCE_UNAVAILABLE`: no Secret Service)
    /// is not.
    pub fn is_hard(&self) -> bool {
        self.error.code != ErrorCode::SourceUnavailable
    }
}

/// The result of `list`: what was found, and the sources that could not be listed.
#[derive(Debug, Default)]
pub struct CredentialList {
    /// Every name found, sorted.
    pub credentials: Vec<ListedCredential>,
    /// The sources that failed, in chain order.
    pub errors: Vec<SourceError>,
}

/// The credential chain. Cheap to share (`Arc`); every method takes `&self`.
pub struct CredentialChain {
    providers: Vec<Arc<dyn CredentialProvider>>,
    /// The Vault provider again, typed, for the Vault-only tools (`migrate`, `status`); the
    /// chain's own rules never look at it (they follow [`ProviderKind`]).
    vault: Option<Arc<VaultProvider>>,
    settings: ChainSettings,
    /// `order_signature(settings.order)`, computed once for the fast path.
    default_signature: String,
    cache: Cache,
    /// Each layer's answer per name, shared by every agent and team context.
    layer_cache: LayerCache,
    audit: Option<AuditLog>,
    /// One breaker per remote store, by provider id.
    breakers: Vec<(&'static str, Arc<CircuitBreaker>)>,
    /// `provider\0name` of each stale value already warned about, and the breaker openings
    /// ([`CircuitBreaker::openings`], summed) they belong to: one warning per name per open period.
    stale_warned: std::sync::Mutex<(u64, std::collections::HashSet<String>)>,
    /// `verdict\0name` of each disagreement with OpenClaw's live copy already warned about
    /// ([`CredentialChain::live_copy`]): one warning per name and verdict per process.
    live_warned: std::sync::Mutex<std::collections::HashSet<String>>,
    /// `migrate`'s fingerprint key, read from Vault once (`None`: not there or not readable).
    fingerprint_key: tokio::sync::OnceCell<Option<crate::migrate::FingerprintKey>>,
    /// `migrate`'s journal as last parsed, with the size and modification time it had then.
    #[allow(clippy::type_complexity)]
    journal_cache: std::sync::Mutex<
        Option<(
            (u64, std::time::SystemTime),
            std::collections::HashMap<String, crate::migrate::MigratedEntry>,
        )>,
    >,
}

/// The longest the chain waits for OpenClaw's live copy ([`CredentialChain::live_copy`]):
/// OpenClaw may hold its SQLite store locked for seconds.
pub const LIVE_COPY_DEADLINE: Duration = Duration::from_millis(250);

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

/// Remote-store answers that mean "cannot be reached right now", when a stale value may be
/// served (from memory or the last-known-good file); never a denial or a not-found.
pub(crate) fn unreachable(e: &Error) -> bool {
    matches!(
        e.code,
        ErrorCode::Network
            | ErrorCode::TlsError
            | ErrorCode::Timeout
            | ErrorCode::ServerError
            | ErrorCode::Sealed
            | ErrorCode::RateLimited
            | ErrorCode::CircuitOpen
    )
}

/// The longest credential name, in bytes (UTF-8).
pub const MAX_NAME_BYTES: usize = 1024;

/// Checks a credential name: what the Vault layout and the audit log can carry. Every name
/// `migrate` writes can be read back: profile ids with spaces or non-ASCII letters (`groq:my
/// key`, `mistral:café`) are names; control characters, empty, `.` and `..` segments, and names
/// over [`MAX_NAME_BYTES`] are not (`INVALID_ARGUMENT`, never echoing the name).
pub fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_BYTES
        && !name.chars().any(char::is_control)
        && !name
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if ok {
        Ok(())
    } else {
        // Never the name typed: it may hold a pasted secret or control characters.
        Err(Error::invalid_argument(format!(
            "the credential name is not valid: at most {MAX_NAME_BYTES} bytes, no control characters, no empty, `.` or `..` segments between `/`"
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
    /// `providers` in their order within each group; `vault` is also in `providers` when set
    /// (see [`CredentialChain::vault`]).
    pub fn new(
        providers: Vec<Arc<dyn CredentialProvider>>,
        vault: Option<Arc<VaultProvider>>,
        settings: ChainSettings,
        audit: Option<AuditLog>,
    ) -> Self {
        let cache = Cache::new(settings.cache);
        let breakers = providers
            .iter()
            .filter(|p| p.kind() == ProviderKind::RemoteStore)
            .map(|p| {
                (
                    p.id(),
                    Arc::new(CircuitBreaker::new(p.id(), settings.breaker)),
                )
            })
            .collect();
        CredentialChain {
            breakers,
            stale_warned: Default::default(),
            live_warned: Default::default(),
            fingerprint_key: Default::default(),
            journal_cache: Default::default(),
            providers,
            vault,
            default_signature: format!(
                "{}{}",
                order_signature(&settings.order),
                settings.layers.signature()
            ),
            layer_cache: LayerCache::default(),
            settings,
            cache,
            audit,
        }
    }

    /// The settings it was built with.
    pub fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// The configured Vault, for what only Vault can do (migrate into it, report its status).
    pub fn vault(&self) -> Option<&Arc<VaultProvider>> {
        self.vault.as_ref()
    }

    /// Every provider, in chain order within each group.
    pub fn providers(&self) -> &[Arc<dyn CredentialProvider>] {
        &self.providers
    }

    /// The audit log, when one is configured.
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_ref()
    }

    /// The chain's precedence: the providers `order` selects, group by group, each group in
    /// the order the providers were given. `get` asks them in this order and `list` reports
    /// each name's sources in it, so a name's first listed source is the one `get` answers
    /// from ([`ListedCredential::answered_by`]); every provider's `list` names exactly what its
    /// `get` answers.
    fn precedence(&self, order: &[SourceGroup]) -> Vec<&Arc<dyn CredentialProvider>> {
        order
            .iter()
            .flat_map(|g| self.providers.iter().filter(move |p| p.group() == *g))
            .collect()
    }

    /// The circuit breaker of each remote store, by provider id, at this moment.
    pub fn breaker_status(&self) -> Vec<(&'static str, BreakerStatus)> {
        let now = Instant::now();
        self.breakers
            .iter()
            .map(|(id, b)| (*id, b.status(now)))
            .collect()
    }

    /// Whether serving `name` stale from `provider` is news: true the first time in each open
    /// period of the remote stores' breakers (a new opening starts a new period).
    fn first_stale_warning(&self, provider: &str, name: &str) -> bool {
        let period: u64 = self.breakers.iter().map(|(_, b)| b.openings()).sum();
        let mut warned = self.stale_warned.lock().unwrap_or_else(|e| e.into_inner());
        if warned.0 != period {
            *warned = (period, Default::default());
        }
        warned.1.insert(format!("{provider}\0{name}"))
    }

    fn breaker_of(&self, id: &str) -> Option<&Arc<CircuitBreaker>> {
        self.breakers.iter().find(|(p, _)| *p == id).map(|(_, b)| b)
    }

    /// Runs `ask` against `provider`: a local source directly; a remote store through its
    /// breaker ([`CircuitBreaker::run`]), within `deadline` when given, with the provider's own
    /// [`CredentialProvider::probe`] as the breaker's probe.
    async fn ask<T>(
        &self,
        provider: &Arc<dyn CredentialProvider>,
        deadline: Option<Duration>,
        ask: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        let Some(breaker) = self.breaker_of(provider.id()) else {
            return ask.await;
        };
        let probe = || {
            let provider = provider.clone();
            Box::pin(async move { provider.probe().await }) as crate::breaker::Probe
        };
        let cause = |since| provider.connection_failure_since(since);
        breaker.run_with_cause(deadline, ask, probe, cause).await
    }

    fn provider_by_id(&self, id: &str) -> Option<&Arc<dyn CredentialProvider>> {
        self.providers.iter().find(|p| p.id() == id)
    }

    fn audit(&self, record: AuditRecord<'_>) {
        if let Some(log) = &self.audit {
            let entity = self
                .vault
                .as_ref()
                .filter(|v| record.provider() == Some(v.id()))
                .and_then(|v| v.known_entity_id());
            match entity {
                Some(id) => log.record(&record.entity(id)),
                None => log.record(&record),
            }
        }
    }

    fn audit_resolved(&self, name: &str, resolved: &Resolved, outcome: &str) {
        self.audit(
            AuditRecord::new(AuditEvent::Get, name)
                .read(&resolved.credential)
                .outcome(outcome),
        );
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

    /// Resolves `name`: from the cache when fresh, else from the first source that holds it.
    pub async fn get(self: &Arc<Self>, name: &str, options: &GetOptions) -> Result<Arc<Resolved>> {
        check_name(name)?;
        let order = options
            .order
            .clone()
            .unwrap_or_else(|| self.settings.order.clone());
        let layers = self.settings.layers.overridden_by(&options.layers);
        let key = Self::cache_key(name, &order, &layers);
        let slot = self.cache.slot(&key);

        if !options.no_cache {
            if let Lookup::Fresh {
                resolved,
                refresh_due,
            } = Cache::lookup_slot(&slot, Instant::now())
            {
                if refresh_due && Cache::claim_refresh(&slot) {
                    self.spawn_refresh_ahead(name, order.clone(), layers.clone(), slot.clone());
                }
                self.audit_resolved(name, &resolved, "cached");
                return self.maybe_refresh(name, &key, resolved, options).await;
            }
        }

        let resolved = {
            let _flight = slot.flight.lock().await;
            // Another caller may have filled the slot while this one waited: single flight.
            let last_good = match Cache::lookup_slot(&slot, Instant::now()) {
                Lookup::Fresh { resolved, .. } if !options.no_cache => {
                    self.audit_resolved(name, &resolved, "cached");
                    return self.maybe_refresh(name, &key, resolved, options).await;
                }
                Lookup::Fresh { resolved, .. } => Some(resolved),
                Lookup::Miss { last_good } => last_good,
            };
            let resolved = self
                .fetch(name, &order, &layers, options.no_cache, last_good)
                .await?;
            self.store_read(&slot, &resolved);
            resolved
        };
        self.maybe_refresh(name, &key, resolved, options).await
    }

    /// The cache key of `name` read through `order` for `layers`: the key of earlier versions
    /// when `layers` is empty.
    fn cache_key(name: &str, order: &[SourceGroup], layers: &LayerContext) -> String {
        cache::key(
            name,
            &format!("{}{}", order_signature(order), layers.signature()),
        )
    }

    /// Stores a read in `slot`, fresh for the TTL from when the source was read (a layer's
    /// cached answer is not made younger by being served to a second context).
    fn store_read(&self, slot: &cache::Slot, resolved: &Arc<Resolved>) {
        let now = Instant::now();
        let at = if resolved.stale {
            now
        } else {
            resolved.fetched_at.min(now)
        };
        self.cache.store(slot, resolved.clone(), at);
    }

    /// Asks `provider` for `name`: one `get` for a store without layers or an empty `layers`;
    /// otherwise agent, team, default in turn, each layer's answer (a miss included) cached and
    /// read once at a time ([`LayerCache`]), unless `no_cache`. The first layer that fails ends
    /// the walk with its error: a layer that refuses (403) is never skipped for the next one.
    /// The one exception is the default layer, the last: a 403 there is a miss (an agent's
    /// identity is not meant to read it, see [`default_layer_refused`]).
    /// Returns the credential and when it was read.
    async fn lookup(
        &self,
        provider: &Arc<dyn CredentialProvider>,
        name: &str,
        layers: &LayerContext,
        no_cache: bool,
    ) -> Result<Option<(Credential, Instant)>> {
        if layers.is_empty() || !provider.has_layers() {
            return Ok(provider.get(name).await?.map(|c| (c, Instant::now())));
        }
        for layer in layers.layers() {
            let label = layer.label();
            let slot = self.layer_cache.slot(provider.id(), &label, name);
            let cached = |slot: &cache::LayerSlot| {
                (!no_cache)
                    .then(|| LayerCache::lookup(slot, Instant::now()))
                    .flatten()
            };
            let answer = match cached(&slot) {
                Some(answer) => answer,
                None => {
                    let _flight = slot.flight.lock().await;
                    match cached(&slot) {
                        Some(answer) => answer,
                        None => {
                            let credential = match provider.get_in(name, &layer).await {
                                Err(e) if default_layer_refused(&layer, &e) => None,
                                other => other?,
                            };
                            let answer = LayerAnswer {
                                credential,
                                fetched_at: Instant::now(),
                            };
                            LayerCache::store(&slot, answer.clone(), &self.settings.cache);
                            answer
                        }
                    }
                }
            };
            if let Some(credential) = answer.credential {
                return Ok(Some((credential, answer.fetched_at)));
            }
        }
        Ok(None)
    }

    /// The value `provider` kept on disk for `name`: for a layered lookup, the first layer
    /// (agent, team, default) the last-known-good file holds it in.
    async fn kept(
        &self,
        provider: &Arc<dyn CredentialProvider>,
        name: &str,
        layers: &LayerContext,
    ) -> Result<Option<KeptCredential>> {
        if layers.is_empty() || !provider.has_layers() {
            return provider.last_known_good(name).await;
        }
        for layer in layers.layers() {
            if let Some(kept) = provider.last_known_good_in(name, &layer).await? {
                return Ok(Some(kept));
            }
        }
        Ok(None)
    }

    fn spawn_refresh_ahead(
        self: &Arc<Self>,
        name: &str,
        order: Vec<SourceGroup>,
        layers: LayerContext,
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
            // Every layer read again (`no_cache`): a layer's cached answer is as old as the
            // entry being refreshed.
            match chain.fetch(&name, &order, &layers, true, last_good).await {
                Ok(resolved) if !resolved.stale => chain.store_read(&slot, &resolved),
                _ => Cache::release_refresh(&slot),
            }
        });
    }

    /// One walk of the sources. `last_good` is served, marked stale, when a remote store is
    /// unreachable and it came from that store within the allowed age.
    async fn fetch(
        &self,
        name: &str,
        order: &[SourceGroup],
        layers: &LayerContext,
        no_cache: bool,
        last_good: Option<Arc<Resolved>>,
    ) -> Result<Arc<Resolved>> {
        let mut tried: Vec<String> = Vec::new();
        // A remote store that could not be asked (unreachable, or the token refused): then
        // "not found" would be a guess, so that failure is the answer when no source has it.
        let mut remote_failure: Option<ErrorCode> = None;
        for provider in self.precedence(order) {
            let lookup = self.ask(
                provider,
                Some(self.settings.lookup_timeout),
                self.lookup(provider, name, layers, no_cache),
            );
            match lookup.await {
                Ok(Some((credential, fetched_at))) => {
                    // A placeholder is no secret: refused here, not skipped, so the source that
                    // answers a name is still the first one `list` shows for it.
                    if let Err(e) = crate::placeholder::refuse_stored(&credential) {
                        self.audit(
                            AuditRecord::new(AuditEvent::Get, name)
                                .source(provider.id(), Some(&credential.source.location))
                                .failed(&e),
                        );
                        return Err(e);
                    }
                    if self.audit.is_some() {
                        if let Some(vault) = self.vault.as_ref().filter(|v| v.id() == provider.id())
                        {
                            // Once per provider: every later line names the entity from memory.
                            vault.entity_id().await;
                        }
                    }
                    let (credential, fetched_at, detail) =
                        match self.live_copy(name, order, provider, &credential).await {
                            Some((live, detail)) => (live, Instant::now(), Some(detail)),
                            None => (credential, fetched_at, None),
                        };
                    let resolved = Arc::new(Resolved {
                        credential,
                        stale: false,
                        fetched_at,
                        generation: self.cache.next_generation(),
                        stale_until: None,
                    });
                    match detail {
                        Some(detail) => self.audit(
                            AuditRecord::new(AuditEvent::Get, name)
                                .read(&resolved.credential)
                                .outcome("ok")
                                .detail(&detail),
                        ),
                        None => self.audit_resolved(name, &resolved, "ok"),
                    }
                    return Ok(resolved);
                }
                Ok(None) => tried.push(format!("{}: not found", provider.id())),
                Err(e) => {
                    let remote = provider.kind() == ProviderKind::RemoteStore;
                    if remote
                        && matches!(
                            e.code,
                            ErrorCode::PermissionDenied | ErrorCode::InvalidToken
                        )
                    {
                        self.audit(
                            AuditRecord::new(AuditEvent::Denial, name)
                                .source(provider.id(), None)
                                .failed(&e),
                        );
                    }
                    if remote && unreachable(&e) {
                        if let Some(last) = last_good.as_ref().filter(|l| {
                            l.credential.source.provider == provider.id()
                                && self.cache.usable_when_stale(l, Instant::now())
                        }) {
                            let stale = Arc::new(Resolved {
                                credential: last.credential.clone(),
                                stale: true,
                                fetched_at: last.fetched_at,
                                generation: last.generation,
                                stale_until: last.stale_until,
                            });
                            if self.first_stale_warning(provider.id(), name) {
                                tracing::warn!(
                                    credential = name,
                                    source = provider.id(),
                                    code = e.code(),
                                    "remote store unreachable; serving the last known good value (warned once per name while it stays unreachable)"
                                );
                            } else {
                                tracing::debug!(
                                    credential = name,
                                    source = provider.id(),
                                    code = e.code(),
                                    "serving the last known good value"
                                );
                            }
                            self.audit(
                                AuditRecord::new(AuditEvent::Get, name)
                                    .source(provider.id(), Some(&last.credential.source.location))
                                    .outcome("stale")
                                    .detail(&e.message),
                            );
                            return Ok(stale);
                        }
                    }
                    // Nothing read in this process: a value kept on disk by an earlier one.
                    // Not when this process last answered OpenClaw's live copy instead of this
                    // store's value ([`Self::live_copy`]): the store's kept value is the older
                    // one, and the walk goes on to the live copy.
                    let mut e = e;
                    let live_answered_before = last_good.as_ref().is_some_and(|l| {
                        self.provider_by_id(l.credential.source.provider)
                            .is_some_and(|p| p.live_in_openclaw())
                    });
                    if remote && unreachable(&e) && !live_answered_before {
                        match self.kept(provider, name, layers).await {
                            Ok(Some(kept)) => {
                                return Ok(self.serve_last_known_good(name, provider, kept, &e));
                            }
                            Ok(None) => {}
                            Err(kept) => {
                                // Fail closed with the file's reason (expired, unusable), the
                                // remote store's own failure kept in the message.
                                tracing::warn!(credential = name, source = provider.id(), code = kept.code(), error = %kept.message, "the last known good value cannot be served");
                                e = Error::new(
                                    kept.code,
                                    format!(
                                        "{} is unreachable ({}: {}) and {}",
                                        provider.id(),
                                        e.code(),
                                        e.message,
                                        kept.message
                                    ),
                                );
                            }
                        }
                    }
                    if remote && self.settings.fallback == Fallback::None {
                        self.audit(
                            AuditRecord::new(AuditEvent::Get, name)
                                .source(provider.id(), None)
                                .failed(&e),
                        );
                        return Err(e);
                    }
                    let breaker_logged = remote
                        && self.breaker_of(provider.id()).is_some()
                        && (e.code == ErrorCode::CircuitOpen || crate::breaker::trips(&e));
                    if (e.code == ErrorCode::SourceUnavailable
                        && provider.group() == SourceGroup::Keychain)
                        || breaker_logged
                    {
                        // A machine without a keychain (a headless server) is normal, not news;
                        // a remote store that cannot be reached is logged once by its breaker
                        // (opened, probe failed, closed), not once per name waiting on it.
                        tracing::debug!(credential = name, source = provider.id(), error = %e.message, "source not asked or not available; trying the next one");
                    } else {
                        tracing::warn!(credential = name, source = provider.id(), code = e.code(), error = %e.message, "credential source failed; trying the next one");
                    }
                    self.audit(
                        AuditRecord::new(AuditEvent::Fallback, name)
                            .source(provider.id(), None)
                            .failed(&e),
                    );
                    if remote
                        && remote_failure.is_none()
                        && (unreachable(&e) || e.code == ErrorCode::InvalidToken)
                    {
                        remote_failure = Some(e.code);
                    }
                    tried.push(format!("{}: {} ({})", provider.id(), e.code(), e.message));
                }
            }
        }
        let code = remote_failure.unwrap_or(ErrorCode::CredentialNotFound);
        self.audit(AuditRecord::new(AuditEvent::Get, name).outcome(code.as_str()));
        let groups: Vec<&str> = order.iter().map(|g| g.as_str()).collect();
        let what = if remote_failure.is_some() {
            "could not be read: the remote store failed and no other source has it"
        } else {
            "was not found in any source"
        };
        let mut err = Error::new(
            code,
            format!(
                "credential \"{name}\" {what} (order: {}); tried: {}",
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

    /// OpenClaw's live copy of `name`, when it must be served instead of `remote`'s answer
    /// `answer`: with the live copy and the reason (for the audit line).
    ///
    /// Only for a name `migrate` copied from one of OpenClaw's own sources
    /// ([`CredentialProvider::live_in_openclaw`]: its SQLite auth stores, its team secret store,
    /// openclaw.json, the state-dir `.env`), as its journal says
    /// ([`ChainSettings::migrate_journal`], [`crate::migrate::migrated_entries`]): the live copy
    /// is what that source holds now under the name it had there (`openai` for `openai@dotenv`),
    /// a value OpenClaw still keeps itself (a team store entry, a profile, field or `.env` line no
    /// apply replaced with a ref) and changes with its own commands. The read has a deadline
    /// ([`LIVE_COPY_DEADLINE`]): a store OpenClaw holds locked is not waited for.
    ///
    /// When the live copy differs from Vault's value, it is served only when Vault still holds
    /// exactly what `migrate` left there (the keyed fingerprint of Vault's current data equals
    /// the journal's; the key read from Vault, [`crate::migrate::FingerprintKey::existing`]):
    /// then OpenClaw changed its copy since. Otherwise Vault's answer stands (Vault first), with
    /// a warning that says what Vault's history shows
    /// ([`CredentialProvider::version_holding`]): an older version held OpenClaw's copy (Vault
    /// was rotated; OpenClaw still uses the old value), none did, or it cannot tell. Each warning
    /// once per name and verdict in a process.
    ///
    /// Never with `fallback: "none"` (local sources are not read at all), for an answer from an
    /// agent's or team's layer, for a source holding this package's exec ref (its value is
    /// Vault's), or for a placeholder or a blank value.
    async fn live_copy(
        &self,
        name: &str,
        order: &[SourceGroup],
        remote: &Arc<dyn CredentialProvider>,
        answer: &Credential,
    ) -> Option<(Credential, String)> {
        if remote.kind() != ProviderKind::RemoteStore
            || self.settings.fallback == Fallback::None
            || answer
                .source
                .layer
                .as_deref()
                .is_some_and(|l| l != "default")
        {
            return None;
        }
        let vault = self.vault.as_ref().filter(|v| v.id() == remote.id())?;
        let entry = self.migrated_entry(vault, name)?;
        let provider = self
            .precedence(order)
            .into_iter()
            .find(|p| {
                p.id() == entry.source && p.kind() == ProviderKind::Local && p.live_in_openclaw()
            })?
            .clone();
        let source_name = entry.source_name.clone();
        let source = provider.clone();
        // On the blocking pool: a SQLite read waiting on OpenClaw's lock blocks its thread, and
        // the deadline below must still fire on a runtime with one worker.
        let handle = tokio::runtime::Handle::current();
        let read = tokio::task::spawn_blocking(move || {
            handle.block_on(async move { provider.get(&source_name).await })
        });
        let live = match tokio::time::timeout(LIVE_COPY_DEADLINE, read).await {
            Ok(Ok(Ok(Some(live)))) => live,
            Ok(Ok(Ok(None))) => {
                // No plaintext there now: a ref to another source means OpenClaw reads the
                // value elsewhere, and Vault's copy may be stale (attack 11, G3).
                if let Some(at) = source.foreign_ref(&entry.source_name).await {
                    if self.warn_live_once("elsewhere", name) {
                        tracing::warn!(
                            credential = name,
                            source = %entry.source,
                            location = %at,
                            "OpenClaw now reads this setting through a SecretRef to another source, not the value `migrate` copied to Vault: Vault's copy is served and may be stale; put the current value in Vault (`openclaw-vault put`) or point the setting at Vault (`migrate --rewrite-config`)"
                        );
                    }
                }
                return None;
            }
            Ok(Ok(Err(e))) => {
                tracing::debug!(credential = name, source = %entry.source, error = %e.message, "OpenClaw's copy could not be read for comparison");
                return None;
            }
            Ok(Err(_)) => return None,
            Err(_) => {
                if self.warn_live_once("busy", name) {
                    tracing::warn!(
                        credential = name,
                        source = %entry.source,
                        "OpenClaw's own copy could not be read within {} ms (its store is busy or locked): Vault's value is served without comparing",
                        LIVE_COPY_DEADLINE.as_millis()
                    );
                }
                return None;
            }
        };
        let blank = live
            .secrets
            .iter()
            .all(|(_, v)| secrecy::ExposeSecret::expose_secret(v).trim().is_empty());
        if live.source.provider == remote.id()
            || blank
            || crate::placeholder::refuse_stored(&live).is_err()
            || live.secrets.same_values(&answer.secrets)
        {
            return None;
        }
        let (remote_id, at) = (remote.id(), live.source.location.clone());
        let local_id = live.source.provider;
        let unchanged = self
            .vault_unchanged_since_migrate(vault, name, &entry)
            .await;
        if unchanged == Some(true) {
            if self.warn_live_once("changed", name) {
                tracing::warn!(
                    credential = name,
                    source = local_id,
                    location = %at,
                    "OpenClaw changed its own copy after `migrate` copied it to {remote_id} (which still holds what migrate left): OpenClaw's copy is served; run `openclaw-vault migrate` (it reports the name as a conflict) and `--overwrite` to move it"
                );
            }
            let detail = format!(
                "OpenClaw's live copy at {at}: changed after migrate copied it to {remote_id}"
            );
            let mut live = live;
            live.name = name.to_string();
            return Some((live, detail));
        }
        let verdict = self
            .ask(
                remote,
                Some(self.settings.lookup_timeout),
                remote.version_holding(name, &live.secrets),
            )
            .await
            .unwrap_or(HistoryMatch::Unknown);
        match verdict {
            HistoryMatch::Version(version) => {
                if self.warn_live_once("older", name) {
                    tracing::warn!(
                        credential = name,
                        source = local_id,
                        location = %at,
                        version,
                        "OpenClaw's own copy is an older value ({remote_id} version {version}) and OpenClaw still uses it: {remote_id}'s newer value is served; set OpenClaw's copy to it with OpenClaw's own command (the value from `openclaw-vault get <name> --reveal`), never with `migrate --overwrite`"
                    );
                }
            }
            HistoryMatch::Never | HistoryMatch::Unknown if unchanged.is_none() => {
                if self.warn_live_once("unknown", name) {
                    tracing::warn!(
                        credential = name,
                        source = local_id,
                        location = %at,
                        "OpenClaw's own copy differs from {remote_id}'s, and this token cannot tell whether {remote_id} was written since `migrate` copied it (it may not read `<prefix>/migrate/fingerprint-key` or the secret): {remote_id}'s value is served; check which is right"
                    );
                }
            }
            HistoryMatch::Never | HistoryMatch::Unknown => {
                if self.warn_live_once("differs", name) {
                    tracing::warn!(
                        credential = name,
                        source = local_id,
                        location = %at,
                        "OpenClaw's own copy differs from {remote_id}'s, and {remote_id} was written since `migrate` copied it: {remote_id}'s value is served, while OpenClaw uses its own copy; check which is right"
                    );
                }
            }
        }
        None
    }

    /// `name`'s line in `migrate`'s journal ([`crate::migrate::migrated_entries`]), the file
    /// parsed again only when its size or modification time changed.
    fn migrated_entry(
        &self,
        vault: &Arc<VaultProvider>,
        name: &str,
    ) -> Option<crate::migrate::MigratedEntry> {
        let journal = self.settings.migrate_journal.as_ref()?;
        let meta = std::fs::metadata(journal).ok()?;
        let stamp = (meta.len(), meta.modified().ok()?);
        let mut cached = self.journal_cache.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_none_or(|(s, _)| *s != stamp) {
            let entries =
                crate::migrate::migrated_entries(journal, vault.client().mount(), vault.prefix());
            *cached = Some((stamp, entries));
        }
        cached.as_ref()?.1.get(name).cloned()
    }

    /// True when one of `name`'s migrate-journal warnings is news in this process.
    fn warn_live_once(&self, verdict: &str, name: &str) -> bool {
        let mut warned = self.live_warned.lock().unwrap_or_else(|e| e.into_inner());
        warned.insert(format!("{verdict}\0{name}"))
    }

    /// Whether Vault's current data at `name` is exactly what `migrate` left there (its keyed
    /// fingerprint equals the journal's): `Some(true)` or `Some(false)`; `None` when the
    /// fingerprint key or the data cannot be read within the lookup deadline (no evidence
    /// either way).
    async fn vault_unchanged_since_migrate(
        &self,
        vault: &Arc<VaultProvider>,
        name: &str,
        entry: &crate::migrate::MigratedEntry,
    ) -> Option<bool> {
        let deadline = self.settings.lookup_timeout;
        let key = self
            .fingerprint_key
            .get_or_init(|| crate::migrate::FingerprintKey::existing(vault, deadline))
            .await;
        let key = key.as_ref()?;
        let path = vault.path_of(name).ok()?;
        let read = tokio::time::timeout(deadline, vault.client().read(&path, None)).await;
        let Ok(Ok(Some(secret))) = read else {
            return None;
        };
        Some(
            secret
                .data
                .as_ref()
                .and_then(|d| d.expose_secret().as_object().map(|d| key.fingerprint(d)))
                .is_some_and(|fp| fp == entry.fingerprint),
        )
    }

    /// A value from a remote store's last-known-good file, served marked stale, logged (once
    /// per name per outage) and audited with outcome `stale` and the file in the detail.
    fn serve_last_known_good(
        &self,
        name: &str,
        provider: &Arc<dyn CredentialProvider>,
        kept: KeptCredential,
        cause: &Error,
    ) -> Arc<Resolved> {
        let KeptCredential {
            credential,
            fetched_at_ms,
            max_age,
        } = kept;
        let now = Instant::now();
        let age_ms = (crate::time::now_ms() - fetched_at_ms).max(0) as u64;
        let age = Duration::from_millis(age_ms);
        let fetched_at = now.checked_sub(age).unwrap_or(now);
        let stale_until = now + max_age.saturating_sub(age);
        if self.first_stale_warning(provider.id(), name) {
            tracing::warn!(
                credential = name,
                source = provider.id(),
                code = cause.code(),
                age_ms,
                "remote store unreachable; serving the last known good value from the encrypted file"
            );
        }
        let detail = format!(
            "{} ({}); served from the last-known-good file, {} s old",
            cause.message,
            cause.code(),
            age_ms / 1000
        );
        self.audit(
            AuditRecord::new(AuditEvent::Get, name)
                .source(provider.id(), Some(&credential.source.location))
                .outcome("stale")
                .detail(&detail),
        );
        Arc::new(Resolved {
            credential,
            stale: true,
            fetched_at,
            generation: self.cache.next_generation(),
            stale_until: Some(stale_until),
        })
    }

    /// Drops every cached value.
    pub fn clear_cache(&self) {
        self.cache.clear();
        self.layer_cache.clear();
    }

    /// Drops cached values of `name` (after a write, or when a watcher saw a change).
    pub fn invalidate(&self, name: &str) {
        self.cache.invalidate(name);
        self.layer_cache.invalidate(name);
    }

    /// Which names exist where, without values. Sources that fail are reported, not fatal.
    pub async fn list(&self, order: Option<&[SourceGroup]>) -> CredentialList {
        self.list_for(order, &LayerContext::default()).await
    }

    /// [`CredentialChain::list`] for an agent and/or team (over the configured ones): a layered
    /// store lists agent, team and default layers, in that order, each source with its `layer`;
    /// a layer that cannot be listed fails the whole store's listing (reported in `errors`),
    /// except a default layer the identity may not list (403), which lists nothing.
    pub async fn list_for(
        &self,
        order: Option<&[SourceGroup]>,
        layers: &LayerContext,
    ) -> CredentialList {
        let order = order.unwrap_or(&self.settings.order);
        let layers = self.settings.layers.overridden_by(layers);
        let mut out = CredentialList::default();
        for provider in self.precedence(order) {
            let walk = async {
                if layers.is_empty() || !provider.has_layers() {
                    return Ok(provider
                        .list()
                        .await?
                        .into_iter()
                        .map(|l| (l, None))
                        .collect::<Vec<_>>());
                }
                let mut all = Vec::new();
                for layer in layers.layers() {
                    let label = layer.label();
                    let listed = match provider.list_in(&layer).await {
                        Err(e) if default_layer_refused(&layer, &e) => Vec::new(),
                        other => other?,
                    };
                    for l in listed {
                        all.push((l, Some(label.clone())));
                    }
                }
                Ok(all)
            };
            // A remote store's listing has the lookup deadline and goes through its breaker, so
            // a hung Vault is a reported `TIMEOUT` (or `CIRCUIT_OPEN`), not a minute's wait.
            let lookup = self.ask(provider, Some(self.settings.lookup_timeout), walk);
            match lookup.await {
                Ok(listings) => {
                    for (Listing { name, location }, layer) in listings {
                        let source = ListedSource {
                            provider: provider.id(),
                            location,
                            layer,
                        };
                        match out.credentials.iter_mut().find(|c| c.name == name) {
                            Some(c) => c.sources.push(source),
                            None => out.credentials.push(ListedCredential {
                                name,
                                sources: vec![source],
                            }),
                        }
                    }
                }
                Err(error) => out.errors.push(SourceError {
                    provider: provider.id(),
                    error,
                }),
            }
        }
        out.credentials.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The error a caller that returns only names (`listCredentials`) fails with when a remote
    /// store could not be listed, so an unreachable Vault is not an empty or partial list:
    /// the first such store's code (`TIMEOUT`, `CIRCUIT_OPEN`, `NETWORK`, ...), a message naming
    /// it, and `errors` naming every source that failed. `None` when every remote store was
    /// listed (a local source that failed is skipped, as `get` skips it).
    pub fn remote_list_failure(&self, list: &CredentialList) -> Option<Error> {
        let remote = |id: &str| {
            self.provider_by_id(id)
                .is_some_and(|p| p.kind() == ProviderKind::RemoteStore)
        };
        let first = list.errors.iter().find(|e| remote(e.provider))?;
        let mut err = Error::new(
            first.error.code,
            format!(
                "the {} source could not be listed: {}",
                first.provider, first.error.message
            ),
        );
        err.status = first.error.status;
        err.errors = list
            .errors
            .iter()
            .map(|e| format!("{}: {} ({})", e.provider, e.error.code(), e.error.message))
            .collect();
        Some(err)
    }

    /// Writes `credential` to the source called `provider_id` (default: the first writable remote
    /// store, i.e. Vault when configured), then drops the cached value.
    pub async fn put(
        &self,
        credential: &Credential,
        provider_id: Option<&str>,
    ) -> Result<CredentialVersion> {
        check_name(&credential.name)?;
        crate::placeholder::refuse_in_credential(
            credential,
            &format!("credential \"{}\"", credential.name),
        )?;
        let provider: Arc<dyn CredentialProvider> = match provider_id {
            Some(id) => self.provider_by_id(id).cloned().ok_or_else(|| {
                Error::invalid_argument(format!(
                    "no credential source has that id (the sources: {})",
                    self.providers
                        .iter()
                        .map(|p| p.id())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
            None => match self
                .providers
                .iter()
                .find(|p| p.kind() == ProviderKind::RemoteStore && p.writable())
            {
                Some(p) => p.clone(),
                None => {
                    return Err(Error::invalid_config(
                        "no Vault is configured to write to (set `provider: \"vault\"` and `vault.addr` in openclaw-vault.json, or VAULT_ADDR)",
                    ))
                }
            },
        };
        let result = provider.put(credential, None).await;
        self.audit(
            AuditRecord::new(AuditEvent::Put, &credential.name)
                .source(provider.id(), None)
                .result(&result),
        );
        self.invalidate(&credential.name);
        result
    }
}

/// Whether `error` from `layer` is the default layer refusing (403) an identity that names an
/// agent or team: `openclaw-vault setup`'s `agent:<id>` policy grants its own and its team's
/// layer only, so the default layer, the last of the walk, is not meant for it. Such a refusal
/// is read as "not in this layer": nothing comes after the default layer in Vault, so skipping
/// it can never hand out another layer's value (a 403 on the agent's or team's layer still ends
/// the walk).
pub(crate) fn default_layer_refused(layer: &crate::layers::Layer, error: &Error) -> bool {
    *layer == crate::layers::Layer::Default && error.code == ErrorCode::PermissionDenied
}
