//! Credential providers: every place a credential can live, behind one trait. The chain in
//! `credentials` asks them in order; each answers for itself and never reaches back up.

pub mod env;
pub mod files;
pub mod keychain;
pub mod openclaw_config;
pub mod openclaw_models_json;
pub mod openclaw_sqlite;

pub mod vault;

use std::time::Duration;

use async_trait::async_trait;

use super::credential::{Credential, CredentialVersion, SourceGroup};
use super::error::{Error, ErrorCode, Result};

/// One name a provider holds, without its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The credential name (`anthropic`, `anthropic:work`, ...).
    pub name: String,
    /// Where it lives (file path, Vault path, variable, keychain service).
    pub location: String,
}

/// A value a remote store gave in an earlier read, kept on disk ([`crate::last_known_good`]).
#[derive(Debug)]
pub struct KeptCredential {
    /// The credential as it was read.
    pub credential: Credential,
    /// When it was read from the store, epoch milliseconds.
    pub fetched_at_ms: i64,
    /// How long after `fetched_at_ms` it may be served (the file's `maxAgeMs`).
    pub max_age: Duration,
}

/// What kind of place a provider reads; the chain's failure rules follow from it, never from
/// which provider it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// On this machine (keychain, files, env, OpenClaw's config): a failure is logged and audited
    /// as `fallback`, and the next source is asked.
    Local,
    /// A store shared over the network (Vault; a Bitwarden or a second Vault would be one too).
    /// Each lookup has a deadline, and a circuit breaker per store ([`crate::breaker`]) makes
    /// lookups fail over at once (`CIRCUIT_OPEN`) after one timed out or could not connect.
    /// While it cannot be reached, the last value read from it is served marked stale (up to
    /// `maxStaleMs`); with `fallback: "none"` its failures are errors instead of a fallback; a
    /// refusal (`PERMISSION_DENIED`, `INVALID_TOKEN`) is audited as `denial`; `put` without a
    /// target writes to the first one.
    RemoteStore,
}

/// A store that coordinates an OAuth refresh across every process sharing it, so exactly one of
/// them trades the single-use refresh token (Vault: a check-and-set claim in KV).
pub trait RefreshCoordinator: Send + Sync {
    /// A claim on refreshing `name`, not yet taken. `ttl` is how long a taken claim stays valid
    /// if its holder dies without releasing it. `INVALID_ARGUMENT` for a name the store cannot
    /// hold.
    fn refresh_claim(&self, name: &str, ttl: Duration) -> Result<Box<dyn RefreshClaim>>;
}

/// One process's claim on the refresh of one credential (see [`RefreshCoordinator`]).
#[async_trait]
pub trait RefreshClaim: Send + Sync {
    /// Takes the claim if it is free or its holder's time ran out. `Ok(false)` while another
    /// process holds it.
    async fn try_acquire(&self) -> Result<bool>;

    /// Gives the claim back, if this process still holds it. Best effort: a claim that cannot
    /// be released expires by itself.
    async fn release(&self);
}

/// A source of credentials. `get` answers `Ok(None)` when the source simply does not hold the
/// name; `Err` means the source holds something unusable or could not be asked, and the chain
/// records that and moves on to the next source.
#[async_trait]
pub trait CredentialProvider: Send + Sync {
    /// Stable id used in `source.provider`, audit lines and `listCredentials` (`vault`,
    /// `claude-code`, `qwen`, `codex`, `auth-profiles`, `openclaw-config`, `dotenv`, `env`, ...).
    fn id(&self) -> &'static str;

    /// The group `order` refers to.
    fn group(&self) -> SourceGroup;

    /// The credential `name`, or `Ok(None)` when this source does not hold it.
    async fn get(&self, name: &str) -> Result<Option<Credential>>;

    /// Every name this source holds, with where, never a value.
    async fn list(&self) -> Result<Vec<Listing>>;

    /// Which names a later source may list that this source would answer when it can be read,
    /// with the file it reads: `migrate` does not move such names from later sources while this
    /// one fails (a later `.env` key must not take the bare name `openai` a profile here
    /// answers). `None` (the default): this source answers only names of its own.
    fn names_answered_when_readable(&self) -> Option<(NameScope, std::path::PathBuf)> {
        None
    }

    /// Whether this source is on this machine or a shared remote store (see [`ProviderKind`]).
    fn kind(&self) -> ProviderKind {
        ProviderKind::Local
    }

    /// How this source coordinates an OAuth refresh across processes, when it can; `None` (the
    /// default): the chain takes a lock file on this machine instead.
    fn refresh_coordinator(&self) -> Option<&dyn RefreshCoordinator> {
        None
    }

    /// The version `name` is at in this source, read without its value, for `watchCredential`
    /// (Vault KV v2: the metadata's `current_version`, 0 when absent). `Ok(None)` (the
    /// default) when the source cannot tell cheaply; the watch then compares what it reads.
    async fn current_version(&self, name: &str) -> Result<Option<CredentialVersion>> {
        let _ = name;
        Ok(None)
    }

    /// One cheap request that shows whether this remote store answers at all, for the chain's
    /// circuit breaker ([`crate::breaker`]): while the breaker is open, one probe at a time runs
    /// in the background, and `Ok` closes the breaker. Any error keeps it open. Only asked of a
    /// [`ProviderKind::RemoteStore`]; the default says `Ok` (the next lookup then tells).
    async fn probe(&self) -> Result<()> {
        Ok(())
    }

    /// `NETWORK` or `TLS_ERROR` when this remote store's newest attempt at or after `since`
    /// got no answer and nothing answered after it: what a lookup cut by its deadline reports
    /// instead of `TIMEOUT` (a closed port is not a hang). `None` (the default) otherwise.
    fn connection_failure_since(&self, since: std::time::Instant) -> Option<ErrorCode> {
        let _ = since;
        None
    }

    /// The value this remote store gave for `name` in an earlier read, possibly by an earlier
    /// process, kept on disk (the encrypted last-known-good file, [`crate::last_known_good`]),
    /// with when it was read (epoch milliseconds). Asked by the chain only after this store
    /// could not be reached and no value read in this process can be served. `Ok(None)` (the
    /// default) when nothing is kept; `INVALID_SOURCE` naming the file when it is unusable;
    /// `LAST_KNOWN_GOOD_EXPIRED` when the value is older than its maximum age.
    async fn last_known_good(&self, name: &str) -> Result<Option<KeptCredential>> {
        let _ = name;
        Ok(None)
    }

    /// Whether this store holds the agent and team layers of [`crate::layers`] (Vault does);
    /// the chain walks them with [`CredentialProvider::get_in`] when a lookup names an agent or
    /// a team. `false` (the default): only the default layer exists.
    fn has_layers(&self) -> bool {
        false
    }

    /// The credential `name` in one layer; `Ok(None)` when that layer does not hold it. The
    /// default answers the default layer from [`CredentialProvider::get`] and nothing else.
    async fn get_in(&self, name: &str, layer: &crate::layers::Layer) -> Result<Option<Credential>> {
        match layer {
            crate::layers::Layer::Default => self.get(name).await,
            _ => Ok(None),
        }
    }

    /// Every name one layer holds (see [`CredentialProvider::get_in`]).
    async fn list_in(&self, layer: &crate::layers::Layer) -> Result<Vec<Listing>> {
        match layer {
            crate::layers::Layer::Default => self.list().await,
            _ => Ok(Vec::new()),
        }
    }

    /// [`CredentialProvider::current_version`] for one layer.
    async fn current_version_in(
        &self,
        name: &str,
        layer: &crate::layers::Layer,
    ) -> Result<Option<CredentialVersion>> {
        match layer {
            crate::layers::Layer::Default => self.current_version(name).await,
            _ => Ok(None),
        }
    }

    /// [`CredentialProvider::last_known_good`] for one layer.
    async fn last_known_good_in(
        &self,
        name: &str,
        layer: &crate::layers::Layer,
    ) -> Result<Option<KeptCredential>> {
        match layer {
            crate::layers::Layer::Default => self.last_known_good(name).await,
            _ => Ok(None),
        }
    }

    /// Whether OpenClaw itself reads this source at run time and its own commands change it
    /// (`secrets store set`, `models auth paste-api-key`, `config set`, the state-dir `.env`):
    /// a plaintext value here is OpenClaw's live copy. The chain compares it with a remote
    /// store's answer ([`crate::chain`], "the live copy"). `false` (the default) for sources
    /// OpenClaw does not read (CLI logins, the keychain, retired files).
    fn live_in_openclaw(&self) -> bool {
        false
    }

    /// Where OpenClaw reads `name` instead, when this source holds a SecretRef to another source
    /// for it (an `env`, `file` or `store` ref, another exec provider): a description naming the
    /// place and the ref, never a value. `None` (the default) otherwise.
    async fn foreign_ref(&self, name: &str) -> Option<String> {
        let _ = name;
        None
    }

    /// Which earlier version of `name` (default layer) in this store held exactly `secrets`
    /// (the same secret fields, the same values), for telling which of two differing copies is
    /// newer. The default: [`HistoryMatch::Unknown`] (a source without versions).
    async fn version_holding(
        &self,
        name: &str,
        secrets: &crate::credential::SecretFields,
    ) -> Result<HistoryMatch> {
        let _ = (name, secrets);
        Ok(HistoryMatch::Unknown)
    }

    /// Whether `put` writes back (used for OAuth refresh and migration).
    fn writable(&self) -> bool {
        false
    }

    /// Writes `credential` back to this source. `expected` is the version it was read at: the
    /// write fails with `CAS_MISMATCH` when the source changed since. Sources keep every field
    /// they do not own (e.g. `mcpOAuth` in Claude Code's file).
    async fn put(
        &self,
        credential: &Credential,
        expected: Option<&CredentialVersion>,
    ) -> Result<CredentialVersion> {
        let _ = (credential, expected);
        Err(Error::new(
            ErrorCode::UnsupportedOperation,
            format!("the {} source is read-only", self.id()),
        ))
    }
}

/// What a store's version history says about a value ([`CredentialProvider::version_holding`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryMatch {
    /// This version (not the current one) held it: the store has moved on from it since.
    Version(u64),
    /// Every version from the first to the current one was read and none held it: the store
    /// never held this value.
    Never,
    /// Cannot tell: a version is deleted, destroyed or unreadable, the history cannot be read,
    /// or the source keeps no history.
    Unknown,
}

/// A set of credential names a source may answer (see
/// [`CredentialProvider::names_answered_when_readable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameScope {
    /// Names without `/`: bare provider names (`openai`) and profile ids (`openai:manual`), what
    /// the shared auth store answers.
    Bare,
    /// Names without `/` or `:`: provider and channel names (`openai`, `telegram`,
    /// `gateway`), what openclaw.json answers.
    Plain,
    /// Names under this prefix (`agents/<id>/`).
    Prefix(String),
}

impl NameScope {
    /// True when `name` is in the set.
    pub fn contains(&self, name: &str) -> bool {
        match self {
            NameScope::Bare => !name.contains('/'),
            NameScope::Plain => !name.contains('/') && !name.contains(':'),
            NameScope::Prefix(p) => name.starts_with(p.as_str()),
        }
    }
}
