//! `openclaw-vault migrate`: moves every local credential into Vault without losing any.
//!
//! Plan: ask each local source what it holds; one Vault path per name (the first source in chain
//! order wins, the others are reported as shadowed). Apply: create-only writes (cas 0), read back
//! and compare every write, a journal line per verified item. A different existing value is a
//! conflict, never overwritten without `overwrite`. Killed at any point and run again, it skips
//! what the journal or Vault already holds and duplicates nothing: a write whose journal line was
//! lost meets the cas check, finds the identical value, and is counted as done.
//!
//! After `apply`, two optional steps change local files, each only for credentials whose value
//! Vault holds now ([`verified_in_vault`]): [`rewrite_config`] points `openclaw.json` at Vault
//! through exec SecretRefs, and [`remove_local`] removes the copies OpenClaw itself keeps. Every
//! step returns a typed report; nothing here prints, prompts or chooses an exit code.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::chain::{CredentialChain, SourceError};
use crate::credential::{Credential, CredentialKind, SourceGroup};
use crate::error::{Error, ErrorCode, Result};
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_models_json as models_json_source;
use crate::providers::vault::VaultProvider;
use secrecy::ExposeSecret;
use vault_client::secret::SecretData;

pub mod apply_plan;
pub mod backups;
pub mod fingerprint;
pub mod models_json;
pub mod own_refs;
pub mod ownership;
pub mod preflight;
pub mod remove_local;
pub mod rewrite_config;
pub mod safety;

pub use apply_plan::{
    build_apply_plan, provider_alias, AliasChange, ApplyPlan, ApplyTarget, KeptTarget,
    ProviderChange, MAX_BATCH_BYTES, MAX_REFS_PER_PROVIDER,
};
pub use backups::{
    apply_pending_marker, check_against_vault as check_backups_against_vault,
    check_archives_against_vault, clear_apply_pending, legacy_archives, mark_apply_pending,
    plaintext_backups, remove_archives, remove_backups, unwritten_before_apply, LegacyArchive,
    PlaintextBackup,
};
pub use fingerprint::FingerprintKey;
pub use own_refs::{check_own_refs, OwnRef, RefState};
pub use ownership::{set_aside_owned, OwnedByCli, OPENCLAW_OWNER};
pub use preflight::{Skipped, DEFAULT_RUN_DEADLINE, PREFLIGHT_DEADLINE};
pub use remove_local::{remove_local, LocalRemoval};
pub use rewrite_config::{
    provider_entry, rewrite_config, ConfigRewrite, KeptField, ReplacedField, ResolverCommand,
    EXEC_PROVIDER_ALIAS, PROVIDER_TIMEOUT_MS, RESOLVER_PASS_ENV,
};

/// Parallel Vault requests the command line migrates with (`MigrateOptions::concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 16;

/// The largest local file (`openclaw.json`, an auth-profiles.json) `rewrite_config` and
/// `remove_local` read: they may be large (comments, many agents), but not unbounded.
const MAX_LOCAL_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// How long `rewrite_config` and `remove_local` wait for OpenClaw's lock on a file.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The resume journal's default place: `<stateDir>/vault-migrate.journal`. `None` without a
/// state directory (neither `HOME` nor `OPENCLAW_STATE_DIR` set).
pub fn default_journal(paths: &OpenClawPaths) -> Option<PathBuf> {
    paths
        .state_dir
        .as_ref()
        .map(|d| d.join("vault-migrate.journal"))
}

/// What `migrate`'s journal says Vault held for one name after a run: the keyed fingerprint
/// ([`fingerprint`]) of the data it wrote or found there, and the source it was copied from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigratedEntry {
    /// The fingerprint of the data in Vault after that run.
    pub fingerprint: String,
    /// The provider id it was read from (`openclaw-secret-store`, `openclaw-config`, `dotenv`).
    pub source: String,
    /// Its name in that source (`openai` for the Vault name `openai@dotenv`).
    pub source_name: String,
}

/// The last journal line of each name `migrate` wrote, found or updated in `mount`/`prefix`
/// (never a `conflict` or `failed` line), from the journal at `path` ([`default_journal`]).
/// Lines of earlier versions without a source are left out. Empty when the file is missing,
/// unreadable, of an older format or of another mount or prefix (the Vault address is not
/// compared: a cluster's nodes have several). Never fails: it is evidence for
/// [`crate::chain`], not a requirement.
pub fn migrated_entries(path: &Path, mount: &str, prefix: &str) -> HashMap<String, MigratedEntry> {
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(path) else {
        return out;
    };
    let mut lines = text.lines();
    let header_matches = lines
        .next()
        .and_then(|l| serde_json::from_str::<JournalHeader>(l).ok())
        .is_some_and(|h| {
            h.journal == JOURNAL_KIND
                && h.version == JOURNAL_VERSION
                && h.mount.trim_matches('/') == mount.trim_matches('/')
                && h.prefix.trim_matches('/') == prefix.trim_matches('/')
        });
    if !header_matches {
        return out;
    }
    for line in lines {
        let Ok(l) = serde_json::from_str::<JournalLine>(line) else {
            continue;
        };
        if l.outcome == "conflict" || l.outcome == "failed" {
            continue;
        }
        if let (Some(source), Some(source_name)) = (l.source, l.source_name) {
            out.insert(
                l.name,
                MigratedEntry {
                    fingerprint: l.fingerprint,
                    source,
                    source_name,
                },
            );
        }
    }
    out
}

/// One credential to move.
#[derive(Debug, Clone)]
pub struct PlanItem {
    /// The credential name (`anthropic`, `openai:work`, ...).
    pub name: String,
    /// What it is (`api_key`, `token`, `oauth`).
    pub kind: CredentialKind,
    /// The provider id it is read from (`claude-code`, `auth-profiles`, `env`, ...).
    pub source_provider: &'static str,
    /// Where in that source (file and entry, variable, keychain service).
    pub source_location: String,
    /// The file the credential was read from, when its source is a file (for `--remove-local`).
    pub source_file: Option<PathBuf>,
    /// Vault path under the mount (`openclaw/credentials/<name>`).
    pub vault_path: String,
    /// Secret field names (never values).
    pub fields: Vec<String>,
    /// Bytes of the data written to Vault.
    pub size: usize,
    /// First 16 hex digits of the HMAC-SHA256 of the canonical data, keyed per Vault and prefix
    /// ([`fingerprint`]): compares values without them, and confirms no guess offline.
    pub fingerprint: String,
    /// The key of `fingerprint`, for comparing with what Vault holds.
    fingerprint_key: FingerprintKey,
    /// Other sources holding the same name, in chain order.
    pub shadowed: Vec<Shadowed>,
    /// Where OpenClaw keeps this value, in the words of its `secrets audit` (file and JSON
    /// path, profile, store name): the item's own source first, then every other source that
    /// holds the same value (each value is written once). Empty for sources OpenClaw does not
    /// own (keychain, other tools' files, the process env).
    pub targets: Vec<SourceTarget>,
    credential: Credential,
}

/// One place OpenClaw keeps a secret, as `openclaw secrets audit --json` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceTarget {
    /// The file (`openclaw.json`, `state/openclaw.sqlite`, an `openclaw-agent.sqlite`, a
    /// `.env`, a legacy `auth-profiles.json`).
    pub file: PathBuf,
    /// The audit's `jsonPath`: `channels.telegram.botToken`, `profiles.openai:default.key`,
    /// `$env.OPENAI_API_KEY`; `None` for a team secret store entry.
    pub json_path: Option<String>,
    /// The agent of an agent auth store or legacy auth-profiles.json (`None`: the shared store).
    pub agent_id: Option<String>,
    /// The auth profile id, for auth profile targets.
    pub profile_id: Option<String>,
    /// The team secret store name, for store entries.
    pub store_name: Option<String>,
}

/// The OpenClaw targets `credential` was read from (see [`PlanItem::targets`]).
pub fn source_targets(credential: &Credential) -> Vec<SourceTarget> {
    use crate::providers::openclaw_sqlite as sq;
    let Some(file) = credential.source.file.clone() else {
        return Vec::new();
    };
    let meta = |k: &str| {
        credential
            .metadata
            .get(k)
            .and_then(Value::as_str)
            .map(String::from)
    };
    let blank = SourceTarget {
        file,
        json_path: None,
        agent_id: None,
        profile_id: None,
        store_name: None,
    };
    match credential.source.provider {
        crate::providers::openclaw_config::PROVIDER_ID => {
            let mut paths: Vec<String> = match credential.metadata.get("jsonPaths") {
                Some(Value::Object(m)) => m
                    .values()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect(),
                _ => meta("jsonPath").into_iter().collect(),
            };
            paths.sort();
            paths
                .into_iter()
                .map(|p| SourceTarget {
                    json_path: Some(p),
                    ..blank.clone()
                })
                .collect()
        }
        sq::SHARED_AUTH_STORE_ID | sq::AGENT_AUTH_STORE_ID | "auth-profiles" => {
            let Some(id) = meta("profileId") else {
                return Vec::new();
            };
            let field = match credential.kind {
                CredentialKind::ApiKey => Some("key"),
                CredentialKind::Token => Some("token"),
                CredentialKind::OAuth => None,
            };
            let json_path = match field {
                Some(f) => format!("profiles.{id}.{f}"),
                None => format!("profiles.{id}"),
            };
            vec![SourceTarget {
                json_path: Some(json_path),
                agent_id: meta("agent"),
                profile_id: Some(id),
                ..blank
            }]
        }
        models_json_source::PROVIDER_ID => {
            let Some(id) = meta("providerId") else {
                return Vec::new();
            };
            credential
                .secrets
                .names()
                .map(|f| SourceTarget {
                    json_path: Some(format!("providers.{id}.{f}")),
                    agent_id: meta("agent"),
                    ..blank.clone()
                })
                .collect()
        }
        sq::SECRET_STORE_ID => vec![SourceTarget {
            store_name: meta("storeName"),
            ..blank
        }],
        "dotenv" => meta("variable")
            .map(|v| {
                vec![SourceTarget {
                    json_path: Some(format!("$env.{v}")),
                    ..blank
                }]
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// For a bare provider name (`openai`, `agents/a1/openai`) that an auth store answers from one
/// of its profiles: the name that profile is planned under (`openai:manual`,
/// `agents/a1/openai:manual`). `None` for a profile listed under its own id.
fn profile_alias_of(listed: &str, credential: &Credential) -> Option<String> {
    let id = credential
        .metadata
        .get("profileId")
        .and_then(Value::as_str)?;
    if listed.ends_with(id) {
        return None;
    }
    let folder = listed.rsplit_once('/').map(|(f, _)| f);
    Some(match folder {
        Some(folder) => format!("{folder}/{id}"),
        None => id.to_string(),
    })
}

/// A name answered by a source that moves nothing under it (see `plan`): a bare provider name
/// an auth store resolves to one of its profiles, or a place holding a SecretRef.
struct BareNameClaim {
    /// For a bare provider name: the name its profile is planned under.
    profile: Option<String>,
    /// What the name answers (compared with later sources' values).
    answered: Credential,
    /// The names later sources' different values got instead of the bare name, by source
    /// provider id (`<name>@<provider id>`): a later source with a value already planned under
    /// one of them meets it there (written once).
    redirects: HashMap<&'static str, String>,
}

/// The name a value gets when `name` is already planned with a different value: `<name>@<source
/// provider id>`, then `<name>@<source provider id>-2`, ... (deterministic for a given machine
/// state: sources are asked in chain order).
fn distinct_name(name: &str, provider: &str, taken: &HashMap<String, usize>) -> String {
    let base = format!("{name}@{provider}");
    if !taken.contains_key(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains_key(candidate))
        .expect("an unused suffix exists")
}

impl PlanItem {
    /// The credential as the source gave it at plan time (its secrets stay in `SecretString`s).
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// The fingerprint of `data` under this item's key (comparable with [`PlanItem::fingerprint`]).
    pub fn fingerprint_of(&self, data: &Map<String, Value>) -> String {
        self.fingerprint_key.fingerprint(data)
    }
}

/// Another source holding a planned name. It is not migrated: the first source in chain order
/// wins, as it does for `getCredential`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shadowed {
    /// The provider id (`keychain`, `env`, ...).
    pub provider: &'static str,
    /// Where in that source (file and entry, variable, keychain service).
    pub location: String,
    /// True when it holds the same value as the planned one (same fingerprint).
    pub same_value: bool,
}

/// What `plan` found.
#[derive(Debug, Default)]
pub struct Plan {
    /// One item per credential name, sorted by name.
    pub items: Vec<PlanItem>,
    /// Sources that could not be read (malformed files, ...): reported, not migrated.
    pub source_errors: Vec<SourceError>,
    /// Credentials found but not planned, each with its reason (a name that cannot be a Vault
    /// path, a redaction placeholder instead of a value): one odd item never stops the run.
    pub skipped: Vec<Skipped>,
    /// The fingerprints' key came from Vault (`<prefix>/migrate/fingerprint-key`): they compare
    /// across runs. False: a key for this run only (Vault could not be read).
    pub fingerprints_from_vault: bool,
}

impl Plan {
    /// True when a source error fails the run (see [`SourceError::is_hard`]).
    pub fn has_hard_source_errors(&self) -> bool {
        self.source_errors.iter().any(SourceError::is_hard)
    }
}

/// How one item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written (create-only) and verified.
    Created { version: u64 },
    /// Vault already held exactly this value.
    AlreadyPresent,
    /// The journal says it was verified before with this fingerprint.
    AlreadyMigrated,
    /// Vault holds a different value; left alone. `older_version`: the local value is this
    /// earlier version of Vault's (Vault was rotated since): never overwritten, even with
    /// `overwrite` (that would put the older value back).
    Conflict {
        existing_fingerprint: String,
        older_version: Option<u64>,
        /// The journal says this very value was migrated to this path, and Vault holds another
        /// now: Vault was written since (rotated, recreated), so the local value is the older
        /// one even where Vault's history no longer shows it. Never overwritten either.
        vault_written_since: bool,
    },
    /// Replaced a different value (`overwrite`), verified. `previous`: the version replaced
    /// (still readable in KV v2's history; 0 on KV v1, which keeps none).
    Overwritten { version: u64, previous: u64 },
    /// The source changed during the run; the newest value was written and verified.
    UpdatedDuringRun { version: u64, fingerprint: String },
    /// Not migrated; the error says why.
    Failed { code: &'static str, message: String },
    /// Not tried (or cut short) because Vault was lost earlier in this run: `code` is that
    /// loss's (`NETWORK`, `TIMEOUT`, `TLS_ERROR`, `SEALED`); the one item that met it first is
    /// [`Outcome::Failed`] with the message. Nothing is journaled for it: a rerun tries it.
    NotTried { code: &'static str },
}

impl Outcome {
    /// The stable snake_case name used in journal lines, JSON reports and `Report::count`.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Created { .. } => "created",
            Outcome::AlreadyPresent => "already_present",
            Outcome::AlreadyMigrated => "already_migrated",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Overwritten { .. } => "overwritten",
            Outcome::UpdatedDuringRun { .. } => "updated_during_run",
            Outcome::Failed { .. } => "failed",
            Outcome::NotTried { .. } => "not_tried",
        }
    }

    /// True when Vault now holds the source's value.
    pub fn is_in_vault(&self) -> bool {
        !matches!(
            self,
            Outcome::Conflict { .. } | Outcome::Failed { .. } | Outcome::NotTried { .. }
        )
    }
}

/// Options of `apply`.
#[derive(Clone)]
pub struct MigrateOptions {
    /// Replace a different existing value (cas on its current version) instead of reporting a
    /// conflict.
    pub overwrite: bool,
    /// The resume journal (JSON lines, 0600).
    pub journal: PathBuf,
    /// Parallel Vault requests.
    pub concurrency: usize,
    /// Called with the running count (1-based) after each durable checkpoint: an item's write,
    /// its verification and its journal line. Crash-safety tests stop the process here.
    pub on_checkpoint: Option<CheckpointHook>,
    /// The whole run's deadline ([`DEFAULT_RUN_DEADLINE`] from the command line): items not
    /// finished by then end `TIMEOUT` and are left to the next run (nothing is claimed for them).
    pub deadline: std::time::Duration,
}

/// See [`MigrateOptions::on_checkpoint`].
pub type CheckpointHook = Arc<dyn Fn(u64) + Send + Sync>;

impl std::fmt::Debug for MigrateOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrateOptions")
            .field("overwrite", &self.overwrite)
            .field("journal", &self.journal)
            .field("concurrency", &self.concurrency)
            .field("deadline", &self.deadline)
            .field("on_checkpoint", &self.on_checkpoint.is_some())
            .finish()
    }
}

/// One plan item and how it ended.
#[derive(Debug, Clone)]
pub struct ReportItem {
    /// The item as planned (its fingerprint is the plan-time value's).
    pub item: PlanItem,
    /// How it ended.
    pub outcome: Outcome,
}

/// The result of `apply`.
#[derive(Debug, Default)]
pub struct Report {
    /// Every plan item with how it ended, in plan order.
    pub items: Vec<ReportItem>,
}

/// The totals of a [`Report`], as the command line and `--json` show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReportCounts {
    /// Written where nothing was (or the source changed during the run): `created` and
    /// `updated_during_run`.
    pub created: usize,
    /// A different value in Vault replaced (`overwrite`): `overwritten`.
    pub overwritten: usize,
    /// Already in Vault: `already_present` and `already_migrated` (journal).
    pub already_there: usize,
    /// Vault holds a different value, left alone.
    pub conflict: usize,
    /// Vault holds the source's value now (everything but conflicts and failures).
    pub verified: usize,
    /// Not migrated because of an error.
    pub failed: usize,
    /// Not tried because Vault was lost earlier in the run ([`Outcome::NotTried`]).
    pub not_tried: usize,
}

impl Report {
    /// How many items ended with this `Outcome::label`.
    pub fn count(&self, label: &str) -> usize {
        self.items
            .iter()
            .filter(|r| r.outcome.label() == label)
            .count()
    }

    /// Conflicts and failures.
    pub fn problems(&self) -> usize {
        self.items
            .iter()
            .filter(|r| !r.outcome.is_in_vault())
            .count()
    }

    /// The totals by outcome.
    pub fn counts(&self) -> ReportCounts {
        ReportCounts {
            created: self.count("created") + self.count("updated_during_run"),
            overwritten: self.count("overwritten"),
            already_there: self.count("already_present") + self.count("already_migrated"),
            conflict: self.count("conflict"),
            verified: self
                .items
                .iter()
                .filter(|r| r.outcome.is_in_vault())
                .count(),
            failed: self.count("failed"),
            not_tried: self.count("not_tried"),
        }
    }
}

fn require_vault(chain: &CredentialChain) -> Result<&Arc<VaultProvider>> {
    chain.vault().ok_or_else(|| {
        Error::invalid_config(
            "no Vault is configured to migrate into: set VAULT_ADDR (and VAULT_TOKEN or an auth method), or `provider: \"vault\"` with `vault.addr` in openclaw-vault.json",
        )
    })
}

/// The Vault preflight on its own ([`preflight::check_vault`]: health, then the token), run
/// before planning so that an unreachable, sealed or wrongly authenticated Vault fails in
/// seconds whatever the size of the local config. Nothing is read or written locally.
pub async fn check_vault_first(chain: &CredentialChain) -> Result<()> {
    let vault = require_vault(chain)?;
    preflight::check_vault(vault.client(), PREFLIGHT_DEADLINE, 0).await
}

/// Asks every local source what it holds and builds the plan. Nothing is written.
pub async fn plan(chain: &CredentialChain) -> Result<Plan> {
    let vault = require_vault(chain)?;
    let mut plan = Plan::default();
    // Read or created once (the only write of a dry run): see `fingerprint`.
    let fingerprint_key = FingerprintKey::of(vault, true, PREFLIGHT_DEADLINE).await;
    plan.fingerprints_from_vault = fingerprint_key.from_vault;
    let mut by_name: HashMap<String, usize> = HashMap::new();
    // Bare provider names (`openai`) that an auth store answers first in chain order, from one of
    // its profiles: the plain name stays with that profile, as `getCredential` answered it before
    // the migration (and still answers it after `--rewrite-config`, through the profile's ref). A
    // later source listing the same name is planned under `<name>@<provider>` when its value
    // differs, or joins the profile's item when it is the same value. See `BareNameClaim`.
    let mut claims: HashMap<String, BareNameClaim> = HashMap::new();
    let local = chain
        .providers()
        .iter()
        .filter(|p| p.group() != SourceGroup::Vault);
    // Chain order: keychain, files, env (the groups `getCredential` asks after Vault).
    let mut local: Vec<_> = local.collect();
    // Agents' models.json last: OpenClaw generates them from the config and profiles, so their
    // values are usually already planned from there (and then only add targets).
    local.sort_by_key(|p| {
        let group = chain
            .settings()
            .order
            .iter()
            .position(|g| *g == p.group())
            .unwrap_or(usize::MAX);
        (p.id() == models_json_source::PROVIDER_ID, group)
    });
    // Auth stores (and openclaw.json) that failed to read this run, with the names they may
    // answer: a later source's item under such a name is not migrated (see `unread_owner`).
    let mut unread: Vec<Unread> = Vec::new();
    for (index, provider) in local.into_iter().enumerate() {
        let failed = |unread: &mut Vec<Unread>, code: &'static str| {
            if let Some((scope, file)) = provider.names_answered_when_readable() {
                if !unread.iter().any(|u| u.index == index) {
                    unread.push(Unread {
                        index,
                        scope,
                        file,
                        code,
                    });
                }
            }
        };
        let listings = match provider.list().await {
            Ok(l) => l,
            Err(e) => {
                failed(&mut unread, e.code());
                plan.source_errors.push(SourceError {
                    provider: provider.id(),
                    error: e,
                });
                continue;
            }
        };
        for listing in listings {
            let credential = match provider.get(&listing.name).await {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    failed(&mut unread, e.code());
                    // A bare provider name answers from the profile listed under its own id:
                    // the same failure is reported once.
                    if !plan
                        .source_errors
                        .iter()
                        .any(|s| s.provider == provider.id() && s.error.message == e.message)
                    {
                        plan.source_errors.push(SourceError {
                            provider: provider.id(),
                            error: e,
                        });
                    }
                    continue;
                }
            };
            let alias_of = profile_alias_of(&listing.name, &credential);
            if alias_of.is_some() || credential.metadata.contains_key("secretRef") {
                // Another name of a listed profile, or a place holding a SecretRef (its value is
                // not kept there): nothing of its own to move. But this source answers the name
                // (`getCredential` asks it before later ones): the plain name stays its own.
                if !by_name.contains_key(&listing.name) && !claims.contains_key(&listing.name) {
                    claims.insert(
                        listing.name.clone(),
                        BareNameClaim {
                            profile: alias_of,
                            answered: credential,
                            redirects: HashMap::new(),
                        },
                    );
                }
                continue;
            }
            if let Some(u) = unread
                .iter()
                .find(|u| u.index != index && u.scope.contains(&listing.name))
            {
                plan.skipped.push(Skipped {
                    name: listing.name.clone(),
                    source_provider: provider.id(),
                    source_location: credential.source.location.clone(),
                    code: "SOURCE_UNAVAILABLE",
                    reason: format!(
                        "{} could not be read this run ({}) and may hold the profile that answers this name; not migrated, so it never takes the name from that profile: migrate again once it can be read",
                        u.file.display(),
                        u.code
                    ),
                });
                continue;
            }
            if provider.id() == models_json_source::PROVIDER_ID {
                // A copy OpenClaw generated: when every value is already planned, one item
                // holds them all and this file is one more of its places.
                let holds_all = |item: &PlanItem| {
                    credential.secrets.iter().all(|(_, v)| {
                        item.credential
                            .secrets
                            .iter()
                            .any(|(_, w)| w.expose_secret() == v.expose_secret())
                    })
                };
                if let Some(item) = plan.items.iter_mut().find(|i| holds_all(i)) {
                    item.targets.extend(source_targets(&credential));
                    continue;
                }
            }
            let data = credential.to_vault_data();
            let fp = fingerprint_key.fingerprint(&data);
            let mut name = listing.name.clone();
            if let Some(claim) = claims.get_mut(&name) {
                if claim.answered.secrets.same_as(&credential.secrets) {
                    // The value the name answers already: one more place of the profile's item
                    // when it is planned; else it is in Vault already (a ref) or not moved.
                    let profile_item = claim
                        .profile
                        .as_ref()
                        .and_then(|p| by_name.get(p).copied())
                        .filter(|&i| i != usize::MAX);
                    if let Some(i) = profile_item {
                        plan.items[i].shadowed.push(Shadowed {
                            provider: provider.id(),
                            location: credential.source.location.clone(),
                            same_value: true,
                        });
                        let more = source_targets(&credential);
                        plan.items[i].targets.extend(more);
                    }
                    continue;
                }
                // `<name>@<this source's provider id>`, whatever other sources hold: a rerun
                // after an unrelated change names it the same (attack 7, finding 7).
                let same_elsewhere = claim
                    .redirects
                    .values()
                    .find(|n| {
                        by_name
                            .get(*n)
                            .filter(|&&i| i != usize::MAX)
                            .is_some_and(|&i| {
                                plan.items[i]
                                    .credential
                                    .secrets
                                    .same_as(&credential.secrets)
                            })
                    })
                    .cloned();
                name = match same_elsewhere {
                    Some(planned) => planned,
                    None => claim
                        .redirects
                        .entry(provider.id())
                        .or_insert_with(|| distinct_name(&name, provider.id(), &by_name))
                        .clone(),
                };
            }
            if let Some(&i) = by_name.get(&name) {
                if i == usize::MAX {
                    // Skipped (see below): no later source is migrated in its place.
                    continue;
                }
                let same_value = plan.items[i]
                    .credential
                    .secrets
                    .same_as(&credential.secrets);
                plan.items[i].shadowed.push(Shadowed {
                    provider: provider.id(),
                    location: credential.source.location.clone(),
                    same_value,
                });
                if same_value {
                    // One value, written once: its other places point at the same Vault path.
                    let more = source_targets(&credential);
                    plan.items[i].targets.extend(more);
                    continue;
                }
                // A different value under the same name: its own path, never collapsed.
                name = distinct_name(&name, provider.id(), &by_name);
            }
            if let Some(skip) = preflight::skip_reason(vault, &name, &credential) {
                // Once per name: a later source with the same name is not migrated in its
                // place (the first source in chain order is the one `getCredential` answers).
                by_name.insert(name.clone(), usize::MAX);
                plan.skipped.push(skip);
                continue;
            }
            let vault_path = match vault.path_of(&name) {
                Ok(p) => p,
                Err(e) => {
                    plan.source_errors.push(SourceError {
                        provider: provider.id(),
                        error: e,
                    });
                    continue;
                }
            };
            let size = serde_json::to_vec(&data)
                .map(|b| zeroize::Zeroizing::new(b).len())
                .unwrap_or(0);
            by_name.insert(name.clone(), plan.items.len());
            let targets = source_targets(&credential);
            plan.items.push(PlanItem {
                name: name.clone(),
                kind: credential.kind,
                source_provider: provider.id(),
                source_location: credential.source.location.clone(),
                source_file: credential.source.file.clone(),
                vault_path: format!("{}/{vault_path}", vault.client().mount()),
                fields: credential.secrets.names().map(str::to_string).collect(),
                size,
                fingerprint: fp,
                fingerprint_key: fingerprint_key.clone(),
                shadowed: Vec::new(),
                targets,
                credential,
            });
        }
    }
    plan.items.sort_by(|a, b| a.name.cmp(&b.name));
    plan.skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(plan)
}

/// A source that failed to read in [`plan`] and the names it may answer.
struct Unread {
    /// Its position in the planning order: only later sources are held back.
    index: usize,
    scope: crate::providers::NameScope,
    file: PathBuf,
    code: &'static str,
}

// ---- journal ---------------------------------------------------------------------------------

#[derive(Debug, Serialize, Deserialize)]
struct JournalHeader {
    journal: String,
    version: u32,
    vault: String,
    mount: String,
    prefix: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct JournalLine {
    name: String,
    fingerprint: String,
    outcome: String,
    #[serde(default)]
    version: Option<u64>,
    /// The provider the value was read from (`openclaw-secret-store`, `dotenv`, ...) and the
    /// name it has there (`openai` for `openai@dotenv`): where OpenClaw's live copy is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
    #[serde(
        default,
        rename = "sourceName",
        skip_serializing_if = "Option::is_none"
    )]
    source_name: Option<String>,
}

const JOURNAL_KIND: &str = "openclaw-vault-migrate";
/// 2: fingerprints are keyed (HMAC-SHA256, see [`fingerprint`]); 1 held unkeyed SHA-256 ones.
const JOURNAL_VERSION: u32 = 2;

/// The journal: one header line, then one line per finished item. Appended with one `write`
/// per line; a torn last line (killed mid-write) is ignored.
struct Journal {
    file: Mutex<std::fs::File>,
    done: HashMap<String, String>,
}

impl Journal {
    fn open(path: &Path, header: JournalHeader) -> Result<Journal> {
        // `line` 0: the file as a whole.
        let bad = |line: usize, what: &str| {
            let at = if line == 0 {
                String::new()
            } else {
                format!(" line {line}")
            };
            Error::new(
                ErrorCode::InvalidSource,
                format!(
                    "migration journal {}{at}: {what}; move it away (or delete it) to start over, nothing in Vault is lost",
                    path.display()
                ),
            )
        };
        let mut done = HashMap::new();
        let mut fresh = true;
        match std::fs::read(path).map(String::from_utf8) {
            Ok(Err(e)) => {
                let valid = e.utf8_error().valid_up_to();
                let line = e.as_bytes()[..valid]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                return Err(bad(line, "is not UTF-8 text (the journal is corrupt)"));
            }
            Ok(Ok(text)) => {
                let lines: Vec<&str> = text.lines().collect();
                let complete = text.ends_with('\n');
                for (i, line) in lines.iter().enumerate() {
                    let last = i + 1 == lines.len();
                    if i == 0 {
                        if last && !complete && serde_json::from_str::<JournalHeader>(line).is_err()
                        {
                            // Killed while writing the header: nothing was migrated yet.
                            break;
                        }
                        let h: JournalHeader = serde_json::from_str(line)
                            .map_err(|_| bad(1, "is not a migration journal header"))?;
                        if h.journal != JOURNAL_KIND {
                            return Err(bad(1, "is not a migration journal header"));
                        }
                        if h.version < JOURNAL_VERSION {
                            // Unkeyed fingerprints (before 0.1.1): they never match a keyed one,
                            // so the journal says nothing this run can use. Kept aside, as below.
                            tracing::warn!(journal = %path.display(), "the migration journal is from an older version (unkeyed fingerprints): moved aside, every credential is checked against Vault again");
                        }
                        if h.vault != header.vault
                            || h.mount != header.mount
                            || h.prefix != header.prefix
                            || h.version < JOURNAL_VERSION
                        {
                            // Another target: this journal says nothing about it. Keep it aside.
                            let aside = path.with_extension(format!(
                                "{}.old",
                                path.extension().and_then(|e| e.to_str()).unwrap_or("jsonl")
                            ));
                            std::fs::rename(path, &aside).map_err(|e| {
                                bad(1, &format!("belongs to another Vault target and cannot be moved aside ({})", e.kind()))
                            })?;
                            break;
                        }
                        fresh = false;
                        continue;
                    }
                    match serde_json::from_str::<JournalLine>(line) {
                        Ok(l) => {
                            if l.outcome != "conflict" && l.outcome != "failed" {
                                done.insert(l.name, l.fingerprint);
                            }
                        }
                        Err(_) if last && !complete => {
                            tracing::warn!(journal = %path.display(), "ignoring a torn last journal line (the previous run was interrupted)");
                        }
                        Err(_) => {
                            return Err(bad(
                                i + 1,
                                "is not a journal entry (the journal is corrupt)",
                            ))
                        }
                    }
                }
                if fresh {
                    done.clear();
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bad(0, &format!("cannot be read ({})", e.kind()))),
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            use std::os::unix::fs::DirBuilderExt;
            let _ = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir);
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| bad(0, &format!("cannot be opened for appending ({})", e.kind())))?;
        if fresh && std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) > 0 {
            // Moved aside above, or a journal of the same target with no header line.
            file.set_len(0).ok();
        }
        if fresh {
            let mut line = serde_json::to_vec(&header).unwrap_or_default();
            line.push(b'\n');
            file.write_all(&line)
                .map_err(|e| bad(0, &format!("cannot be written ({})", e.kind())))?;
        }
        // A journal left with a torn last line: cut it off, so that the next run does not find
        // it in the middle of the file and take it for corruption.
        if let Ok(text) = std::fs::read(path) {
            if !text.is_empty() && !text.ends_with(b"\n") {
                let keep = text.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
                file.set_len(keep as u64).map_err(|e| {
                    bad(0, &format!("cannot drop its torn last line ({})", e.kind()))
                })?;
            }
        }
        Ok(Journal {
            file: Mutex::new(file),
            done,
        })
    }

    fn append(&self, line: &JournalLine) -> Result<()> {
        let mut bytes = serde_json::to_vec(line).unwrap_or_default();
        bytes.push(b'\n');
        let mut f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        f.write_all(&bytes).map_err(|e| {
            Error::new(
                ErrorCode::SourceUnavailable,
                format!("writing the migration journal failed ({})", e.kind()),
            )
        })
    }

    fn sync(&self) {
        let f = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let _ = f.sync_all();
    }
}

// ---- apply -----------------------------------------------------------------------------------

/// Progress of `apply`, for a progress bar.
#[derive(Debug, Clone)]
pub struct Progress<'a> {
    /// Items finished so far, this one included.
    pub done: usize,
    /// Items in the plan.
    pub total: usize,
    /// The item just finished.
    pub name: &'a str,
    /// How it ended.
    pub outcome: &'a Outcome,
}

struct Checkpoints {
    passed: AtomicU64,
    hook: Option<CheckpointHook>,
}

impl Checkpoints {
    fn pass(&self) {
        let n = self.passed.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(hook) = &self.hook {
            hook(n);
        }
    }
}

/// Applies the plan: create-only writes, read back and compare, journal. Items run
/// `concurrency` at a time; `progress` is called after each.
pub async fn apply(
    chain: &CredentialChain,
    plan: &Plan,
    options: &MigrateOptions,
    progress: &(dyn Fn(Progress<'_>) + Send + Sync),
) -> Result<Report> {
    let vault = require_vault(chain)?.clone();
    let client = vault.client().clone();
    let run_deadline = tokio::time::Instant::now() + options.deadline;
    if !plan.items.is_empty() {
        // One short question before anything else: an unreachable, hung or sealed Vault fails
        // the run here, in seconds, with one error, whatever the number of credentials, and
        // before the journal is touched.
        preflight::check_vault(&client, PREFLIGHT_DEADLINE, plan.items.len()).await?;
    }
    let journal = Journal::open(
        &options.journal,
        JournalHeader {
            journal: JOURNAL_KIND.into(),
            version: JOURNAL_VERSION,
            vault: client
                .config()
                .addr
                .as_str()
                .trim_end_matches('/')
                .to_string(),
            mount: client.mount().to_string(),
            prefix: vault.prefix().to_string(),
        },
    )?;
    let checkpoints = Checkpoints {
        passed: AtomicU64::new(0),
        hook: options.on_checkpoint.clone(),
    };
    let done_count = AtomicU64::new(0);
    let total = plan.items.len();
    // Set by the first item that finds Vault gone (network, timeout, TLS, sealed): the items
    // not started yet are not tried, each would only wait out the same failure, and the items
    // in flight that meet the same loss are reported with it (one error, not one per item). A
    // per-item refusal (PERMISSION_DENIED, INVALID_ARGUMENT, ...) does not stop the run.
    let vault_lost: std::sync::OnceLock<Error> = std::sync::OnceLock::new();
    // The per-item futures are built and boxed before any await: a `.map(closure)` inside the
    // stream would make the whole future `Send` only for one lifetime (rustc's higher-ranked
    // limits), and the napi binding needs it `Send`.
    let futures: Vec<futures_util::future::BoxFuture<'_, (usize, Outcome)>> = plan
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let vault = vault.clone();
            let journal = &journal;
            let checkpoints = &checkpoints;
            let vault_lost = &vault_lost;
            Box::pin(async move {
                if let Some(lost) = vault_lost.get() {
                    return (i, preflight::not_attempted(lost));
                }
                // True for a loss of Vault that another item met first.
                let lost_before =
                    |e: &Error| preflight::vault_gone(e) && vault_lost.set(e.clone()).is_err();
                let work = async {
                    if journal.done.get(&item.name) == Some(&item.fingerprint)
                        && preflight::still_in_vault(&vault, item).await?
                    {
                        // The journal says done, and Vault still holds the value: done. A path
                        // deleted or changed since is migrated again below (create-only).
                        return Ok(Outcome::AlreadyMigrated);
                    }
                    let migrated_unchanged =
                        journal.done.get(&item.name) == Some(&item.fingerprint);
                    migrate_one(
                        chain,
                        &vault,
                        item,
                        options.overwrite,
                        migrated_unchanged,
                        checkpoints,
                    )
                    .await
                };
                let outcome = match tokio::time::timeout_at(run_deadline, work).await {
                    Ok(Ok(o)) => o,
                    Ok(Err(e)) if lost_before(&e) => {
                        preflight::not_attempted(vault_lost.get().unwrap_or(&e))
                    }
                    Ok(Err(e)) => Outcome::Failed {
                        code: e.code(),
                        message: e.message,
                    },
                    Err(_) => preflight::past_deadline(options.deadline),
                };
                if !matches!(outcome, Outcome::AlreadyMigrated | Outcome::NotTried { .. }) {
                    let line = JournalLine {
                        name: item.name.clone(),
                        fingerprint: match &outcome {
                            Outcome::UpdatedDuringRun { fingerprint, .. } => fingerprint.clone(),
                            _ => item.fingerprint.clone(),
                        },
                        outcome: outcome.label().into(),
                        version: match &outcome {
                            Outcome::Created { version }
                            | Outcome::Overwritten { version, .. }
                            | Outcome::UpdatedDuringRun { version, .. } => Some(*version),
                            _ => None,
                        },
                        source: Some(item.source_provider.to_string()),
                        source_name: Some(item.credential.name.clone()),
                    };
                    if let Err(e) = journal.append(&line) {
                        tracing::warn!(error = %e.message, "journal entry not written; a rerun checks Vault instead");
                    }
                    checkpoints.pass();
                }
                (i, outcome)
            }) as futures_util::future::BoxFuture<'_, (usize, Outcome)>
        })
        .collect();
    let results: Vec<(usize, Outcome)> = stream::iter(futures)
        .buffer_unordered(options.concurrency.max(1))
        .inspect(|(i, outcome)| {
            let done = done_count.fetch_add(1, Ordering::Relaxed) as usize + 1;
            progress(Progress {
                done,
                total,
                name: &plan.items[*i].name,
                outcome,
            });
        })
        .collect()
        .await;
    journal.sync();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; total];
    for (i, o) in results {
        outcomes[i] = Some(o);
    }
    Ok(Report {
        items: plan
            .items
            .iter()
            .cloned()
            .zip(
                outcomes
                    .into_iter()
                    .map(|o| o.expect("every item has an outcome")),
            )
            .map(|(item, outcome)| ReportItem { item, outcome })
            .collect(),
    })
}

async fn migrate_one(
    chain: &CredentialChain,
    vault: &VaultProvider,
    item: &PlanItem,
    overwrite: bool,
    migrated_unchanged: bool,
    checkpoints: &Checkpoints,
) -> Result<Outcome> {
    let client = vault.client();
    let path = vault.path_of(&item.name)?;
    crate::placeholder::refuse_in_credential(&item.credential, &item.source_location)?;
    let data = item.credential.to_vault_data();
    let (mut version, mut outcome) = match client
        .write(&path, &SecretData::from_object(data.clone()), Some(0))
        .await
        .map_err(Error::from)
    {
        Ok(meta) => {
            let v = meta.map(|m| m.version).unwrap_or(0);
            (v, Outcome::Created { version: v })
        }
        Err(e) if e.code == ErrorCode::CasMismatch => {
            let existing = client.read(&path, None).await?;
            let (existing_fp, existing_version) = match &existing {
                Some(s) => (
                    s.data
                        .as_ref()
                        .and_then(|d| {
                            d.expose_secret()
                                .as_object()
                                .map(|d| item.fingerprint_of(d))
                        })
                        .unwrap_or_default(),
                    s.metadata.as_ref().map(|m| m.version).unwrap_or(0),
                ),
                None => (String::new(), 0),
            };
            if existing_fp == item.fingerprint || same_secret_fields(&existing, item, &data) {
                return Ok(Outcome::AlreadyPresent);
            }
            let deleted = matches!(&existing, Some(s) if s.data.is_none()) && existing_version > 0;
            if deleted {
                // The latest version was deleted or destroyed: nothing live to conflict with.
                // Still a cas write, so a writer racing us turns this into a mismatch, not a loss.
                let meta = client
                    .write(
                        &path,
                        &SecretData::from_object(data.clone()),
                        Some(existing_version),
                    )
                    .await?;
                let v = meta.map(|m| m.version).unwrap_or(0);
                (v, Outcome::Created { version: v })
            } else {
                let older_version = version_holding(client, &path, item, existing_version).await;
                if !overwrite || older_version.is_some() || migrated_unchanged {
                    return Ok(Outcome::Conflict {
                        existing_fingerprint: existing_fp,
                        older_version,
                        vault_written_since: migrated_unchanged,
                    });
                }
                let meta = client
                    .write(
                        &path,
                        &SecretData::from_object(data.clone()),
                        Some(existing_version),
                    )
                    .await?;
                let v = meta.map(|m| m.version).unwrap_or(0);
                (
                    v,
                    Outcome::Overwritten {
                        version: v,
                        previous: existing_version,
                    },
                )
            }
        }
        // KV v1 has no cas: write only where nothing is.
        Err(e) if e.code == ErrorCode::UnsupportedOperation => {
            let existing = client.read(&path, None).await?;
            if same_secret_fields(&existing, item, &data) {
                return Ok(Outcome::AlreadyPresent);
            }
            let replaces = existing.is_some();
            if let Some(s) = existing {
                let fp = s
                    .data
                    .as_ref()
                    .and_then(|d| {
                        d.expose_secret()
                            .as_object()
                            .map(|d| item.fingerprint_of(d))
                    })
                    .unwrap_or_default();
                if fp == item.fingerprint {
                    return Ok(Outcome::AlreadyPresent);
                }
                if !overwrite || migrated_unchanged {
                    return Ok(Outcome::Conflict {
                        existing_fingerprint: fp,
                        older_version: None,
                        vault_written_since: migrated_unchanged,
                    });
                }
            }
            client
                .write(&path, &SecretData::from_object(data.clone()), None)
                .await?;
            if replaces {
                // KV v1 keeps no versions: nothing to name as the old one.
                (
                    0,
                    Outcome::Overwritten {
                        version: 0,
                        previous: 0,
                    },
                )
            } else {
                (0, Outcome::Created { version: 0 })
            }
        }
        Err(e) => return Err(e),
    };
    checkpoints.pass();
    verify(client, &path, &item.fingerprint_key, &item.fingerprint).await?;
    checkpoints.pass();

    // The source may have changed while this ran (a CLI refreshed its token): write the newest.
    let provider = chain
        .providers()
        .iter()
        .find(|p| p.id() == item.source_provider);
    if let Some(provider) = provider {
        // The source's own name: a plan item may be stored under another (`<name>@<source>`).
        if let Some(now) = provider.get(&item.credential.name).await? {
            crate::placeholder::refuse_in_credential(&now, &now.source.location)?;
            let now_data = now.to_vault_data();
            let now_fp = item.fingerprint_of(&now_data);
            if now_fp != item.fingerprint {
                let cas = (version > 0).then_some(version);
                let meta = client
                    .write(&path, &SecretData::from_object(now_data), cas)
                    .await?;
                version = meta.map(|m| m.version).unwrap_or(0);
                verify(client, &path, &item.fingerprint_key, &now_fp).await?;
                outcome = Outcome::UpdatedDuringRun {
                    version,
                    fingerprint: now_fp,
                };
            }
        }
    }
    Ok(outcome)
}

/// The earlier version (below `current`, newest first) of `path` that holds exactly `item`'s
/// value (same keyed fingerprint, or the same secret fields): the local value is one Vault has
/// moved on from. `None` when none does or the history cannot be read (KV v1 has none).
async fn version_holding(
    client: &vault_client::VaultClient,
    path: &str,
    item: &PlanItem,
    current: u64,
) -> Option<u64> {
    let data = item.credential.to_vault_data();
    for version in (1..current).rev() {
        let Ok(Some(old)) = client.read(path, Some(version)).await else {
            continue;
        };
        let fp = old.data.as_ref().and_then(|d| {
            d.expose_secret()
                .as_object()
                .map(|d| item.fingerprint_of(d))
        });
        if fp.as_deref() == Some(item.fingerprint.as_str())
            || same_secret_fields(&Some(old), item, &data)
        {
            return Some(version);
        }
    }
    None
}

/// True when Vault's live version holds every secret field of `item` with the same value (and
/// the same expiry): the secret is already there, whatever its non-secret `metadata` says (a
/// profile OpenClaw's `doctor --fix` moved from `auth-profiles.json` into its SQLite store loses
/// its `agent` label, not its key). Never a reason to overwrite, only to not call it a conflict.
fn same_secret_fields(
    existing: &Option<vault_client::engines::kv2::KvSecret>,
    item: &PlanItem,
    data: &Map<String, Value>,
) -> bool {
    let Some(live) = existing
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.expose_secret().as_object())
    else {
        return false;
    };
    !item.fields.is_empty()
        && item
            .fields
            .iter()
            .chain(std::iter::once(&"expiresAt".to_string()))
            .all(|f| live.get(f) == data.get(f))
}

async fn verify(
    client: &vault_client::VaultClient,
    path: &str,
    key: &FingerprintKey,
    expected: &str,
) -> Result<()> {
    let back = client.read(path, None).await?;
    let fp = back
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.expose_secret().as_object().map(|d| key.fingerprint(d)))
        .unwrap_or_default();
    if fp != expected {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "read-back of {path} does not match what was written (fingerprint {fp} instead of {expected}); another writer changed it"
            ),
        ));
    }
    Ok(())
}

// ---- after apply: what local files may change for -------------------------------------------

/// The report items whose plan-time value Vault holds now: the only credentials a local file
/// may be changed for ([`rewrite_config()`], [`remove_local()`]). Built by [`verified_in_vault`].
#[derive(Debug, Default)]
pub struct VerifiedInVault<'r> {
    /// The items, in report order.
    pub items: Vec<&'r PlanItem>,
}

impl VerifiedInVault<'_> {
    /// True when no credential is verified.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The items of `report` whose plan-time value Vault holds now: those written and read back by
/// this run (`created`, `overwritten`), those Vault already held (`already_present`), and those
/// an earlier run migrated (`already_migrated`, from the journal) whose value a fresh read of
/// `<mount>/<prefix>/credentials/<name>` still finds, since Vault may have changed since. Items
/// whose source changed during the run are left out (the plan's copy is no longer what Vault
/// holds), as are conflicts, failures and journal items that cannot be read back. Empty
/// without a Vault. Never fails: an item that cannot be confirmed is simply not in the result.
pub async fn verified_in_vault<'r>(
    chain: &CredentialChain,
    report: &'r Report,
) -> VerifiedInVault<'r> {
    let mut verified = VerifiedInVault::default();
    let Some(vault) = chain.vault() else {
        return verified;
    };
    for ReportItem { item, outcome } in &report.items {
        let confirmed = match outcome {
            Outcome::Created { .. } | Outcome::Overwritten { .. } | Outcome::AlreadyPresent => true,
            Outcome::AlreadyMigrated => {
                let Ok(path) = vault.path_of(&item.name) else {
                    continue;
                };
                let now = vault.client().read(&path, None).await.ok().flatten();
                let fp = now.as_ref().and_then(|s| s.data.as_ref()).and_then(|d| {
                    d.expose_secret()
                        .as_object()
                        .map(|d| item.fingerprint_of(d))
                });
                fp.as_deref() == Some(item.fingerprint.as_str())
            }
            _ => false,
        };
        if confirmed {
            verified.items.push(item);
        }
    }
    verified
}

/// A free name for a backup of `file` next to it: `<name>.bak-20261129T021900Z` (UTC, to the
/// second), with `-1`, `-2`, ... added when taken.
fn backup_path(file: &Path) -> PathBuf {
    let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
        .to_string()
        .chars()
        .filter(|c| *c != '-' && *c != ':')
        .collect();
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut candidate = file.with_file_name(format!("{name}.bak-{stamp}"));
    let mut n = 1;
    while candidate.exists() {
        candidate = file.with_file_name(format!("{name}.bak-{stamp}-{n}"));
        n += 1;
    }
    candidate
}

/// Test support for this crate's and the CLI's tests (cargo feature `test-support`; never in a
/// shipped build): a real Vault dev server per test and a credential source backed by one JSON
/// file, shared by the migrate core's tests and the `migrate` command's.
#[cfg(any(test, feature = "test-support"))]
pub mod test_support {

    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    use std::sync::{Arc, Mutex};

    use async_trait::async_trait;
    use secrecy::SecretString;
    use serde_json::Value;

    use crate::chain::{ChainSettings, CredentialChain};
    use crate::credential::{self, Credential, CredentialSource, SourceGroup};
    use crate::error::Result;
    use crate::local_file::{parse_json, read_credential_file};
    use crate::providers::vault::VaultProvider;
    use crate::providers::{CredentialProvider, Listing};
    use vault_client::{ClientConfig, ClientOptions, VaultClient};

    pub use openclaw_vault_test_support::{temp_dir, DevVault};

    /// Starts a dev server (see `openclaw_vault_test_support::start_dev_vault`).
    pub async fn start_vault() -> DevVault {
        tokio::task::spawn_blocking(|| openclaw_vault_test_support::start_dev_vault("migrate-test"))
            .await
            .expect("start vault")
    }

    /// Clients of a dev server.
    pub trait DevVaultClient {
        /// A client with the root token on `mount` (default `secret`).
        fn client(&self, mount: Option<&str>) -> Arc<VaultClient>;
    }

    impl DevVaultClient for DevVault {
        fn client(&self, mount: Option<&str>) -> Arc<VaultClient> {
            let config = ClientConfig::from_options(ClientOptions {
                addr: Some(self.addr.clone()),
                token: Some(SecretString::from(self.token.clone())),
                mount: mount.map(str::to_string),
                ..Default::default()
            })
            .unwrap();
            Arc::new(VaultClient::new(config).unwrap())
        }
    }

    type OnGet = Box<dyn Fn(&str, usize) + Send + Sync>;
    type Cached = (
        crate::credential::CredentialVersion,
        Arc<serde_json::Map<String, Value>>,
    );

    /// A credential source: one JSON file `{"<name>": {<fields in any spelling>}}`, read again
    /// on every call. `on_get(name, n)` runs before the n-th `get` of `name` (1-based), so a test
    /// can change the file at an exact point of a run.
    pub struct JsonFileSource {
        pub path: PathBuf,
        id: &'static str,
        group: SourceGroup,
        gets: Mutex<HashMap<String, usize>>,
        on_get: Option<OnGet>,
        under: Option<&'static str>,
        /// The parsed file and the version it was read at (a real file provider caches too:
        /// migrate reads every name again after writing it).
        cache: Mutex<Option<Cached>>,
    }

    impl JsonFileSource {
        pub fn new(path: &Path, id: &'static str, group: SourceGroup) -> Self {
            JsonFileSource {
                path: path.to_path_buf(),
                id,
                group,
                gets: Mutex::new(HashMap::new()),
                on_get: None,
                under: None,
                cache: Mutex::new(None),
            }
        }

        /// Entries live under this top-level key (`profiles` in auth-profiles.json).
        pub fn under(mut self, key: &'static str) -> Self {
            self.under = Some(key);
            self
        }

        pub fn on_get(mut self, hook: impl Fn(&str, usize) + Send + Sync + 'static) -> Self {
            self.on_get = Some(Box::new(hook));
            self
        }

        fn read(&self) -> Result<Arc<serde_json::Map<String, Value>>> {
            let version = crate::local_file::stat_version(&self.path);
            if let (Some(v), Some((cached_v, map))) = (&version, &*self.cache.lock().unwrap()) {
                if v == cached_v {
                    return Ok(map.clone());
                }
            }
            let map = Arc::new(self.read_uncached()?);
            if let Some(v) = version {
                *self.cache.lock().unwrap() = Some((v, map.clone()));
            }
            Ok(map)
        }

        fn read_uncached(&self) -> Result<serde_json::Map<String, Value>> {
            match read_credential_file(&self.path, 16 * 1024 * 1024)? {
                Some(file) => {
                    let value = parse_json(&file)?;
                    let value = match self.under {
                        Some(key) => value.get(key).cloned().unwrap_or_default(),
                        None => value,
                    };
                    Ok(value.as_object().cloned().unwrap_or_default())
                }
                None => Ok(Default::default()),
            }
        }
    }

    #[async_trait]
    impl CredentialProvider for JsonFileSource {
        fn id(&self) -> &'static str {
            self.id
        }
        fn group(&self) -> SourceGroup {
            self.group
        }
        async fn get(&self, name: &str) -> Result<Option<Credential>> {
            let n = {
                let mut gets = self.gets.lock().unwrap();
                let n = gets.entry(name.to_string()).or_default();
                *n += 1;
                *n
            };
            if let Some(hook) = &self.on_get {
                hook(name, n);
            }
            let all = self.read()?;
            let Some(Value::Object(object)) = all.get(name) else {
                return Ok(None);
            };
            let location = format!("{}#{name}", self.path.display());
            let credential::ParsedFields {
                kind,
                secrets,
                expires_at,
                metadata,
            } = credential::from_fields(object, &location)?;
            Ok(Some(Credential {
                name: name.to_string(),
                kind,
                source: CredentialSource {
                    provider: self.id,
                    group: self.group,
                    location,
                    file: Some(self.path.clone()),
                    layer: None,
                },
                expires_at,
                metadata,
                secrets,
                version: crate::credential::CredentialVersion::None,
                request_id: None,
            }))
        }
        async fn list(&self) -> Result<Vec<Listing>> {
            Ok(self
                .read()?
                .keys()
                .map(|k| Listing {
                    name: k.clone(),
                    location: format!("{}#{k}", self.path.display()),
                })
                .collect())
        }
    }

    /// A client for tests that plan but never reach Vault: nothing listens at its address, and
    /// it does not retry.
    pub fn offline_client() -> Arc<VaultClient> {
        let config = ClientConfig::from_options(ClientOptions {
            addr: Some("http://127.0.0.1:9".into()),
            token: Some(SecretString::from("hvs.FAKE-offline".to_string())),
            kv_version: Some(2),
            max_retries: Some(0.0),
            ..Default::default()
        })
        .unwrap();
        Arc::new(VaultClient::new(config).unwrap())
    }

    /// A chain of the Vault provider (under `prefix`) and `sources`.
    pub fn chain_with(
        client: Arc<VaultClient>,
        prefix: &str,
        sources: Vec<Arc<dyn CredentialProvider>>,
    ) -> Arc<CredentialChain> {
        let vault = Arc::new(VaultProvider::new(client, prefix));
        let mut providers: Vec<Arc<dyn CredentialProvider>> = vec![vault.clone()];
        providers.extend(sources);
        Arc::new(CredentialChain::new(
            providers,
            Some(vault),
            ChainSettings::default(),
            None,
        ))
    }

    /// Writes `value` as the JSON source file at `path` (0600).
    pub fn write_source(path: &Path, value: &Value) {
        crate::local_file::write_atomic(path, value.to_string().as_bytes()).unwrap();
    }

    /// What `openclaw doctor --fix` does with a retired auth-profiles.json: the same document as
    /// agent `agent`'s live SQLite store (`openclaw-agent.sqlite`, table `auth_profile_store`,
    /// row `primary`, OpenClaw 2026.9.6's schema) under `state_dir`.
    pub fn import_into_agent_store(state_dir: &Path, agent: &str, value: &Value) {
        let db = crate::providers::openclaw_sqlite::agent_db_path(state_dir, agent);
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS auth_profile_store (store_key TEXT NOT NULL PRIMARY KEY,
               store_json TEXT NOT NULL, updated_at INTEGER NOT NULL) STRICT;
             PRAGMA user_version = 23;",
        )
        .unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO auth_profile_store VALUES ('primary', ?1, 1)",
            [value.to_string()],
        )
        .unwrap();
    }

    /// Writes `value` as the shared auth store (`<state>/state/openclaw.sqlite`,
    /// `config_machine_state` row `authProfiles.store`), as `openclaw doctor` imports a legacy
    /// oauth.json (`<provider>:default` OAuth profiles).
    pub fn import_into_shared_store(state_dir: &Path, value: &Value) {
        let db = state_dir.join("state").join("openclaw.sqlite");
        std::fs::create_dir_all(db.parent().unwrap()).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS config_machine_state (state_key TEXT NOT NULL PRIMARY KEY,
               value_json TEXT NOT NULL, updated_at_ms INTEGER NOT NULL) STRICT;",
        )
        .unwrap();
        conn.execute(
            "INSERT OR REPLACE INTO config_machine_state VALUES ('authProfiles.store', ?1, 1)",
            [value.to_string()],
        )
        .unwrap();
    }

    /// The options of a test run: no overwrite, journal at `journal`, 4 requests at a time, no
    /// checkpoint hook, the command line's deadline.
    pub fn options(journal: &Path) -> super::MigrateOptions {
        super::MigrateOptions {
            overwrite: false,
            journal: journal.to_path_buf(),
            concurrency: 4,
            on_checkpoint: None,
            deadline: super::DEFAULT_RUN_DEADLINE,
        }
    }

    /// A progress callback that ignores progress.
    pub fn no_progress() -> impl Fn(super::Progress<'_>) + Send + Sync {
        |_| {}
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::providers::CredentialProvider;
    use serde_json::json;
    use std::os::unix::fs::PermissionsExt;

    const FAKE_OPENAI: &str = "sk-proj-FAKE-migrate-openai-0001";
    const FAKE_TELEGRAM: &str = "123456:FAKE-telegram-token-migrate";
    const FAKE_ACCESS: &str = "sk-ant-oat01-FAKE-access-migrate";
    const FAKE_REFRESH: &str = "sk-ant-ort01-FAKE-refresh-migrate";

    fn sources_json() -> Value {
        json!({
            "openai": {"apiKey": FAKE_OPENAI},
            "telegram": {"botToken": FAKE_TELEGRAM},
            "anthropic": {"type": "oauth", "access": FAKE_ACCESS, "refresh": FAKE_REFRESH, "expires": 1_900_000_000_000i64},
        })
    }

    fn outcome_of<'a>(report: &'a Report, name: &str) -> &'a Outcome {
        &report
            .items
            .iter()
            .find(|r| r.item.name == name)
            .unwrap()
            .outcome
    }

    async fn vault_value(client: &vault_client::VaultClient, path: &str) -> Option<Value> {
        client
            .read(path, None)
            .await
            .unwrap()
            .and_then(|s| s.data.map(|d| d.expose_secret().clone()))
    }

    async fn current_version(client: &vault_client::VaultClient, path: &str) -> u64 {
        client
            .read_metadata(path)
            .await
            .unwrap()
            .map(|m| m.current_version)
            .unwrap_or(0)
    }

    /// One source file and a chain reading it.
    fn setup(server: &DevVault, dir: &Path, prefix: &str, value: &Value) -> Arc<CredentialChain> {
        let file = dir.join("source.json");
        write_source(&file, value);
        let source: Arc<dyn CredentialProvider> =
            Arc::new(JsonFileSource::new(&file, "test-files", SourceGroup::Files));
        chain_with(server.client(None), prefix, vec![source])
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn plan_shows_paths_sizes_fingerprints_and_shadowed_sources_never_values() {
        let server = start_vault().await;
        let dir = temp_dir("plan");
        let files = dir.join("files.json");
        let env = dir.join("env.json");
        write_source(&files, &sources_json());
        write_source(
            &env,
            &json!({"openai": {"apiKey": FAKE_OPENAI}, "telegram": {"token": "999:FAKE-other"}, "discord": {"token": "FAKE-discord"}}),
        );
        // The env source comes first in the providers but last in chain order: files win.
        let chain = chain_with(
            server.client(None),
            "plan",
            vec![
                Arc::new(JsonFileSource::new(&env, "test-env", SourceGroup::Env)),
                Arc::new(JsonFileSource::new(
                    &files,
                    "test-files",
                    SourceGroup::Files,
                )),
            ],
        );
        let plan = plan(&chain).await.unwrap();
        assert!(plan.source_errors.is_empty());
        let names: Vec<&str> = plan.items.iter().map(|i| i.name.as_str()).collect();
        // The env's different telegram token is not dropped: it gets a name of its own.
        assert_eq!(
            names,
            [
                "anthropic",
                "discord",
                "openai",
                "telegram",
                "telegram@test-env"
            ]
        );
        for item in &plan.items {
            assert_eq!(
                item.vault_path,
                format!("secret/plan/credentials/{}", item.name)
            );
            let data = item.credential().to_vault_data();
            assert_eq!(item.size, serde_json::to_vec(&data).unwrap().len());
            assert_eq!(item.fingerprint, item.fingerprint_of(&data));
            assert_eq!(item.fingerprint.len(), 16);
            assert!(item.fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
        }
        let openai = &plan.items[2];
        assert_eq!(openai.source_provider, "test-files");
        assert_eq!(openai.fields, ["apiKey"]);
        assert_eq!(openai.shadowed.len(), 1);
        assert_eq!(openai.shadowed[0].provider, "test-env");
        assert!(openai.shadowed[0].same_value, "same value in both sources");
        let telegram = &plan.items[3];
        assert_eq!(telegram.kind, CredentialKind::Token);
        assert!(
            !telegram.shadowed[0].same_value,
            "different value in the env source"
        );
        let other = &plan.items[4];
        assert_eq!(other.source_provider, "test-env");
        assert_eq!(other.credential().name, "telegram", "the source's own name");
        assert_eq!(
            other.vault_path,
            "secret/plan/credentials/telegram@test-env"
        );
        let anthropic = &plan.items[0];
        assert_eq!(anthropic.kind, CredentialKind::OAuth);
        assert_eq!(anthropic.fields, ["accessToken", "refreshToken"]);
        assert_eq!(plan.items[1].source_provider, "test-env");
        // Nothing a user sees carries a value.
        let shown = format!("{plan:?}");
        for secret in [
            FAKE_OPENAI,
            FAKE_TELEGRAM,
            FAKE_ACCESS,
            FAKE_REFRESH,
            "999:FAKE-other",
        ] {
            assert!(!shown.contains(secret), "{secret} leaked into {shown}");
        }
        // Nothing was written.
        assert!(server
            .client(None)
            .list("plan/credentials")
            .await
            .unwrap()
            .is_empty());

        // A malformed source is reported, the others still planned.
        std::fs::write(&env, "{not json").unwrap();
        let plan2 = super::plan(&chain).await.unwrap();
        assert_eq!(plan2.items.len(), 3);
        assert_eq!(plan2.source_errors.len(), 1);
        assert_eq!(plan2.source_errors[0].error.code(), "INVALID_SOURCE");
        assert!(plan2.source_errors[0].error.message.contains("env.json"));
        assert!(plan2.has_hard_source_errors());

        // No Vault configured: a clear configuration error.
        let no_vault = CredentialChain::new(Vec::new(), None, Default::default(), None);
        assert_eq!(
            super::plan(&no_vault).await.unwrap_err().code(),
            "INVALID_CONFIG"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn apply_creates_verifies_and_a_rerun_changes_nothing() {
        let server = start_vault().await;
        let dir = temp_dir("apply");
        let chain = setup(&server, &dir, "apply", &sources_json());
        let journal = dir.join("state/vault-migrate.journal");
        let plan = plan(&chain).await.unwrap();
        let seen = Mutex::new(Vec::new());
        let progress = |p: Progress<'_>| {
            seen.lock()
                .unwrap()
                .push((p.done, p.total, p.name.to_string()));
        };
        let report = apply(&chain, &plan, &options(&journal), &progress)
            .await
            .unwrap();
        assert_eq!(report.count("created"), 3);
        assert_eq!(report.problems(), 0);
        for r in &report.items {
            assert_eq!(r.outcome, Outcome::Created { version: 1 });
            assert!(r.outcome.is_in_vault());
        }
        assert_eq!(
            report.counts(),
            ReportCounts {
                created: 3,
                verified: 3,
                ..ReportCounts::default()
            }
        );
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen.iter().map(|s| s.0).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(seen.iter().all(|s| s.1 == 3));

        let client = server.client(None);
        assert_eq!(
            vault_value(&client, "apply/credentials/openai")
                .await
                .unwrap(),
            json!({"kind": "api_key", "apiKey": FAKE_OPENAI})
        );
        assert_eq!(
            vault_value(&client, "apply/credentials/telegram")
                .await
                .unwrap(),
            json!({"kind": "token", "token": FAKE_TELEGRAM})
        );
        let anthropic = vault_value(&client, "apply/credentials/anthropic")
            .await
            .unwrap();
        assert_eq!(anthropic["accessToken"], FAKE_ACCESS);
        assert_eq!(anthropic["refreshToken"], FAKE_REFRESH);
        assert_eq!(anthropic["expiresAt"], 1_900_000_000_000i64);
        // The chain's Vault provider reads back what was migrated.
        let via_provider = chain
            .vault()
            .unwrap()
            .get("anthropic")
            .await
            .unwrap()
            .unwrap();
        assert!(via_provider
            .secrets
            .same_as(&plan.items[0].credential().secrets));

        // The journal: 0600, a header, one line per item, no values.
        let meta = std::fs::metadata(&journal).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let text = std::fs::read_to_string(&journal).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["journal"], JOURNAL_KIND);
        assert_eq!(lines[0]["prefix"], "apply");
        assert_eq!(lines.len(), 4);
        assert!(!text.contains(FAKE_OPENAI) && !text.contains(FAKE_ACCESS));

        // Rerun with the journal: nothing asked of Vault, nothing written.
        let again = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(again.count("already_migrated"), 3);
        // Rerun without the journal: Vault itself says it is there.
        let fresh = dir.join("other.journal");
        let plan2 = super::plan(&chain).await.unwrap();
        let third = apply(&chain, &plan2, &options(&fresh), &no_progress())
            .await
            .unwrap();
        assert_eq!(third.count("already_present"), 3);
        for name in ["openai", "telegram", "anthropic"] {
            assert_eq!(
                current_version(&client, &format!("apply/credentials/{name}")).await,
                1,
                "{name} written more than once"
            );
        }
        assert_eq!(std::fs::read_to_string(&journal).unwrap(), text);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_different_value_in_vault_is_a_conflict_until_overwrite() {
        let server = start_vault().await;
        let dir = temp_dir("conflict");
        let chain = setup(&server, &dir, "conflict", &sources_json());
        let client = server.client(None);
        let theirs = json!({"kind": "api_key", "apiKey": "sk-proj-FAKE-already-in-vault"});
        client
            .write(
                "conflict/credentials/openai",
                &SecretData::try_from_value(theirs.clone(), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let journal = dir.join("j");
        let plan = plan(&chain).await.unwrap();
        let report = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        let expected_theirs = plan
            .items
            .iter()
            .find(|i| i.name == "openai")
            .unwrap()
            .fingerprint_of(theirs.as_object().unwrap());
        assert_eq!(
            outcome_of(&report, "openai"),
            &Outcome::Conflict {
                existing_fingerprint: expected_theirs,
                older_version: None,
                vault_written_since: false,
            }
        );
        assert_eq!(report.count("created"), 2);
        assert_eq!(report.problems(), 1);
        assert_eq!(
            report.counts(),
            ReportCounts {
                created: 2,
                conflict: 1,
                verified: 2,
                ..ReportCounts::default()
            }
        );
        assert_eq!(
            vault_value(&client, "conflict/credentials/openai")
                .await
                .unwrap(),
            theirs,
            "a conflict must leave Vault's value alone"
        );
        // A rerun (journal kept) still reports it: conflicts are not "done".
        let again = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(outcome_of(&again, "openai").label(), "conflict");
        assert_eq!(again.count("already_migrated"), 2);

        let overwrite = MigrateOptions {
            overwrite: true,
            ..options(&journal)
        };
        let forced = apply(&chain, &plan, &overwrite, &no_progress())
            .await
            .unwrap();
        assert_eq!(
            outcome_of(&forced, "openai"),
            &Outcome::Overwritten {
                version: 2,
                previous: 1
            }
        );
        assert_eq!(
            vault_value(&client, "conflict/credentials/openai")
                .await
                .unwrap()["apiKey"],
            FAKE_OPENAI
        );
        // The old value is still Vault's version 1 (KV v2 keeps history): nothing lost.
        let v1 = client
            .read("conflict/credentials/openai", Some(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(v1.data.unwrap().expose_secret(), &theirs);
    }

    /// The same secret under other non-secret metadata (a profile `openclaw doctor --fix` moved
    /// from `auth-profiles.json` into the SQLite store drops its `agent` label) is already there,
    /// not a conflict; Vault keeps its version.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_secret_under_other_metadata_is_already_there() {
        let server = start_vault().await;
        let dir = temp_dir("same-secret");
        let chain = setup(&server, &dir, "same-secret", &sources_json());
        let client = server.client(None);
        let theirs =
            json!({"kind": "api_key", "apiKey": FAKE_OPENAI, "metadata": {"agent": "main"}});
        client
            .write(
                "same-secret/credentials/openai",
                &SecretData::try_from_value(theirs.clone(), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let plan = plan(&chain).await.unwrap();
        let report = apply(&chain, &plan, &options(&dir.join("j")), &no_progress())
            .await
            .unwrap();
        assert_eq!(outcome_of(&report, "openai"), &Outcome::AlreadyPresent);
        assert_eq!(report.problems(), 0);
        assert_eq!(
            vault_value(&client, "same-secret/credentials/openai")
                .await
                .unwrap(),
            theirs
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn verified_in_vault_reads_journal_items_back_and_leaves_out_conflicts() {
        let server = start_vault().await;
        let dir = temp_dir("verified");
        let chain = setup(&server, &dir, "ver", &sources_json());
        let client = server.client(None);
        let theirs = json!({"apiKey": "sk-FAKE-theirs"});
        client
            .write(
                "ver/credentials/openai",
                &SecretData::try_from_value(theirs, "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let journal = dir.join("j");
        let plan = plan(&chain).await.unwrap();
        let first = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        let names = |v: &VerifiedInVault<'_>| -> Vec<String> {
            v.items.iter().map(|i| i.name.clone()).collect()
        };
        // The conflict is not verified; the two created ones are.
        assert_eq!(
            names(&verified_in_vault(&chain, &first).await),
            ["anthropic", "telegram"]
        );
        // Rerun from the journal after telegram changed in Vault: the journal is checked against
        // Vault, so telegram is a conflict now, and only anthropic is verified.
        client
            .write(
                "ver/credentials/telegram",
                &SecretData::try_from_value(json!({"token": "999:FAKE-changed"}), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let again = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(again.count("already_migrated"), 1);
        assert_eq!(outcome_of(&again, "telegram").label(), "conflict");
        assert_eq!(
            names(&verified_in_vault(&chain, &again).await),
            ["anthropic"]
        );
        // Without a Vault nothing is verified.
        let no_vault = CredentialChain::new(Vec::new(), None, Default::default(), None);
        assert!(verified_in_vault(&no_vault, &again).await.is_empty());
    }

    #[test]
    fn only_an_unavailable_source_is_not_a_hard_error() {
        let plan = |code| Plan {
            items: Vec::new(),
            skipped: Vec::new(),
            fingerprints_from_vault: false,
            source_errors: vec![SourceError {
                provider: "keychain",
                error: Error::new(code, "x"),
            }],
        };
        assert!(!plan(ErrorCode::SourceUnavailable).has_hard_source_errors());
        assert!(plan(ErrorCode::InvalidSource).has_hard_source_errors());
        assert!(!Plan::default().has_hard_source_errors());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_deleted_latest_version_is_not_a_conflict() {
        let server = start_vault().await;
        let dir = temp_dir("deleted");
        let chain = setup(
            &server,
            &dir,
            "deleted",
            &json!({"openai": {"apiKey": FAKE_OPENAI}}),
        );
        let client = server.client(None);
        client
            .write(
                "deleted/credentials/openai",
                &SecretData::try_from_value(json!({"apiKey": "old"}), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        client.delete("deleted/credentials/openai").await.unwrap();
        let plan = plan(&chain).await.unwrap();
        let report = apply(&chain, &plan, &options(&dir.join("j")), &no_progress())
            .await
            .unwrap();
        assert_eq!(
            outcome_of(&report, "openai"),
            &Outcome::Created { version: 2 }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn read_back_that_differs_is_an_error_without_values() {
        let server = start_vault().await;
        let client = server.client(None);
        client
            .write(
                "rb/x",
                &SecretData::try_from_value(json!({"apiKey": "sk-FAKE-written"}), "x").unwrap(),
                None,
            )
            .await
            .unwrap();
        let key = FingerprintKey::per_run();
        let good = key.fingerprint(json!({"apiKey": "sk-FAKE-written"}).as_object().unwrap());
        verify(&client, "rb/x", &key, &good).await.unwrap();
        let other = key.fingerprint(json!({"apiKey": "sk-FAKE-intended"}).as_object().unwrap());
        let err = verify(&client, "rb/x", &key, &other).await.unwrap_err();
        assert_eq!(err.code(), "CONFLICT");
        assert!(err.message.contains("rb/x") && err.message.contains(&other));
        assert!(!err.message.contains("sk-FAKE"));
        // Nothing there at all is a mismatch too.
        assert_eq!(
            verify(&client, "rb/missing", &key, &good)
                .await
                .unwrap_err()
                .code(),
            "CONFLICT"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_journal_resumes_tolerates_a_torn_line_and_refuses_garbage() {
        let server = start_vault().await;
        let dir = temp_dir("journal");
        let chain = setup(&server, &dir, "jr", &sources_json());
        let client = server.client(None);
        let plan = plan(&chain).await.unwrap();
        let header = json!({"journal": JOURNAL_KIND, "version": JOURNAL_VERSION, "vault": server.addr, "mount": "secret", "prefix": "jr"});
        let fp = |name: &str| {
            plan.items
                .iter()
                .find(|i| i.name == name)
                .unwrap()
                .fingerprint
                .clone()
        };

        // Resume: the journal says openai was done, but Vault does not hold it (the journal is a
        // shortcut checked against Vault, never the truth): it is migrated, as are the others.
        let journal = dir.join("resume.journal");
        std::fs::write(
            &journal,
            format!(
                "{header}\n{}\n{{\"name\":\"telegr",
                json!({"name": "openai", "fingerprint": fp("openai"), "outcome": "created", "version": 1})
            ),
        )
        .unwrap();
        let report = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(
            outcome_of(&report, "openai"),
            &Outcome::Created { version: 1 }
        );
        // The torn line (killed mid-append) is ignored: telegram is migrated.
        assert_eq!(
            outcome_of(&report, "telegram"),
            &Outcome::Created { version: 1 }
        );
        assert!(vault_value(&client, "jr/credentials/openai")
            .await
            .is_some());
        // The torn fragment was cut off: every line parses, and the next run reads it cleanly.
        let text = std::fs::read_to_string(&journal).unwrap();
        assert!(text.ends_with('\n'));
        assert!(
            text.lines()
                .all(|l| serde_json::from_str::<Value>(l).is_ok()),
            "{text}"
        );
        assert!(!text.contains("telegr\n"));
        let again = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(again.count("already_migrated"), 3);

        // A changed fingerprint in the journal means the source changed: asked of Vault again
        // (which holds this value already, from the resumed run above: nothing is written).
        let changed = dir.join("changed.journal");
        std::fs::write(
            &changed,
            format!(
                "{header}\n{}\n",
                json!({"name": "openai", "fingerprint": "0000000000000000", "outcome": "created"})
            ),
        )
        .unwrap();
        let report = apply(&chain, &plan, &options(&changed), &no_progress())
            .await
            .unwrap();
        assert_eq!(outcome_of(&report, "openai"), &Outcome::AlreadyPresent);

        // Garbage, a corrupt middle line, a foreign header: clear errors naming file and line.
        for (name, content, line) in [
            ("garbage.journal", "this is not json\n".to_string(), 1),
            ("foreign.journal", "{\"journal\":\"something-else\",\"version\":1,\"vault\":\"\",\"mount\":\"\",\"prefix\":\"\"}\n".to_string(), 1),
            ("middle.journal", format!("{header}\nnot json\n{}\n", json!({"name": "a", "fingerprint": "x", "outcome": "created"})), 2),
        ] {
            let path = dir.join(name);
            std::fs::write(&path, &content).unwrap();
            let err = apply(&chain, &plan, &options(&path), &no_progress())
                .await
                .unwrap_err();
            assert_eq!(err.code(), "INVALID_SOURCE", "{name}");
            assert!(err.message.contains(name), "{}", err.message);
            assert!(err.message.contains(&format!("line {line}")), "{}", err.message);
            assert!(err.message.contains("move it away"), "{}", err.message);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), content, "left as found");
        }

        // A byte that is not UTF-8 on the third line: named by its line, not "line 0".
        let binary = dir.join("binary.journal");
        let mut bytes = format!(
            "{header}\n{}\n",
            json!({"name": "a", "fingerprint": "x", "outcome": "created"})
        )
        .into_bytes();
        bytes.extend_from_slice(b"{\"name\":\"b\xff\"}\n");
        std::fs::write(&binary, &bytes).unwrap();
        let err = apply(&chain, &plan, &options(&binary), &no_progress())
            .await
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_SOURCE");
        assert!(
            err.message.contains("binary.journal line 3: is not UTF-8"),
            "{}",
            err.message
        );
        assert_eq!(std::fs::read(&binary).unwrap(), bytes, "left as found");

        // Killed while writing the header: started over.
        let torn_header = dir.join("torn-header.journal");
        std::fs::write(&torn_header, "{\"journal\":\"openclaw-vau").unwrap();
        let report = apply(&chain, &plan, &options(&torn_header), &no_progress())
            .await
            .unwrap();
        assert_eq!(report.problems(), 0);
        let first = std::fs::read_to_string(&torn_header).unwrap();
        let h: Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(h["prefix"], "jr");

        // A journal of another target is kept aside, not trusted.
        let other = dir.join("other.journal");
        std::fs::write(
            &other,
            format!(
                "{}\n{}\n",
                json!({"journal": JOURNAL_KIND, "version": JOURNAL_VERSION, "vault": "http://elsewhere:8200", "mount": "secret", "prefix": "jr"}),
                json!({"name": "telegram", "fingerprint": fp("telegram"), "outcome": "created"})
            ),
        )
        .unwrap();
        let report = apply(&chain, &plan, &options(&other), &no_progress())
            .await
            .unwrap();
        assert_eq!(outcome_of(&report, "telegram"), &Outcome::AlreadyPresent);
        assert!(dir.join("other.journal.old").exists());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_source_changing_during_the_run_ends_with_its_newest_value() {
        let server = start_vault().await;
        let dir = temp_dir("changing");
        let file = dir.join("source.json");
        write_source(&file, &sources_json());
        let path = file.clone();
        // The second read of `anthropic` (after the write and read-back) finds a refreshed token,
        // as when Claude Code refreshes its file mid-migration.
        let source =
            JsonFileSource::new(&file, "test-files", SourceGroup::Files).on_get(move |name, n| {
                if name == "anthropic" && n == 2 {
                    let mut v = sources_json();
                    v["anthropic"]["access"] = json!("sk-ant-oat01-FAKE-refreshed");
                    write_source(&path, &v);
                }
            });
        let chain = chain_with(server.client(None), "chg", vec![Arc::new(source)]);
        let journal = dir.join("j");
        let plan = plan(&chain).await.unwrap();
        let report = apply(&chain, &plan, &options(&journal), &no_progress())
            .await
            .unwrap();
        let client = server.client(None);
        let now = vault_value(&client, "chg/credentials/anthropic")
            .await
            .unwrap();
        assert_eq!(now["accessToken"], "sk-ant-oat01-FAKE-refreshed");
        let Outcome::UpdatedDuringRun {
            version,
            fingerprint: fp,
        } = outcome_of(&report, "anthropic").clone()
        else {
            panic!("{:?}", outcome_of(&report, "anthropic"));
        };
        assert_eq!(version, 2);
        assert_eq!(
            fp,
            report
                .items
                .iter()
                .find(|r| r.item.name == "anthropic")
                .unwrap()
                .item
                .fingerprint_of(now.as_object().unwrap())
        );
        assert!(report.count("created") == 2 && report.problems() == 0);
        // The journal records the newest fingerprint: a rerun (planning the new value) skips it.
        let plan2 = super::plan(&chain).await.unwrap();
        let again = apply(&chain, &plan2, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(again.count("already_migrated"), 3);
        assert_eq!(
            current_version(&client, "chg/credentials/anthropic").await,
            2
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kv_v1_mounts_create_only_where_nothing_is() {
        let server = start_vault().await;
        let root = server.client(None);
        root.request(
            "POST",
            "sys/mounts/kv1",
            Some(
                SecretData::try_from_value(json!({"type": "kv", "options": {"version": "1"}}), "x")
                    .unwrap(),
            ),
        )
        .await
        .unwrap();
        let dir = temp_dir("kv1");
        let file = dir.join("source.json");
        write_source(&file, &sources_json());
        let v1 = server.client(Some("kv1"));
        v1.write(
            "one/credentials/telegram",
            &SecretData::try_from_value(json!({"token": "999:FAKE-theirs"}), "x").unwrap(),
            None,
        )
        .await
        .unwrap();
        let chain = chain_with(
            v1.clone(),
            "one",
            vec![Arc::new(JsonFileSource::new(
                &file,
                "test-files",
                SourceGroup::Files,
            ))],
        );
        let plan = plan(&chain).await.unwrap();
        assert_eq!(plan.items[0].vault_path, "kv1/one/credentials/anthropic");
        let report = apply(&chain, &plan, &options(&dir.join("j")), &no_progress())
            .await
            .unwrap();
        assert_eq!(
            outcome_of(&report, "openai"),
            &Outcome::Created { version: 0 }
        );
        assert_eq!(outcome_of(&report, "telegram").label(), "conflict");
        assert_eq!(
            vault_value(&v1, "one/credentials/telegram").await.unwrap()["token"],
            "999:FAKE-theirs"
        );
        let again = apply(&chain, &plan, &options(&dir.join("j2")), &no_progress())
            .await
            .unwrap();
        assert_eq!(again.count("already_present"), 2);
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fingerprints_are_keyed_per_vault_prefix_and_stable_within_it() {
        let server = start_vault().await;
        let dir = temp_dir("fpkey");
        let a = setup(&server, &dir, "fpa", &sources_json());
        let b = setup(&server, &temp_dir("fpkey-b"), "fpb", &sources_json());
        let fps = |p: &Plan| -> Vec<(String, String)> {
            p.items
                .iter()
                .map(|i| (i.name.clone(), i.fingerprint.clone()))
                .collect()
        };
        let (pa, pa2, pb) = (
            plan(&a).await.unwrap(),
            plan(&a).await.unwrap(),
            plan(&b).await.unwrap(),
        );
        assert!(pa.fingerprints_from_vault && pb.fingerprints_from_vault);
        // Same install: stable. Another prefix (another install): every fingerprint differs.
        assert_eq!(fps(&pa), fps(&pa2));
        for ((name, fa), (_, fb)) in fps(&pa).iter().zip(fps(&pb).iter()) {
            assert_ne!(fa, fb, "{name}: same fingerprint under two prefixes");
        }
        // The key lives in Vault, once per prefix, and is not derivable from the values.
        let key = server
            .client(None)
            .read("fpa/migrate/fingerprint-key", None)
            .await
            .unwrap()
            .unwrap();
        let hex = key.data.unwrap().expose_secret()["key"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(hex.len(), 64);

        // A journal of the unkeyed version is moved aside with its entries unused; the run
        // checks Vault instead and finishes normally.
        let journal = dir.join("old.journal");
        std::fs::write(
            &journal,
            format!(
                "{}\n{}\n",
                json!({"journal": JOURNAL_KIND, "version": 1, "vault": server.addr, "mount": "secret", "prefix": "fpa"}),
                json!({"name": "openai", "fingerprint": "0123456789abcdef", "outcome": "created", "version": 1})
            ),
        )
        .unwrap();
        let report = apply(&a, &pa, &options(&journal), &no_progress())
            .await
            .unwrap();
        assert_eq!(report.problems(), 0);
        assert_eq!(report.count("created"), pa.items.len());
        assert!(dir.join("old.journal.old").exists());
        // A rerun with the new journal: everything already migrated.
        let again = apply(
            &a,
            &plan(&a).await.unwrap(),
            &options(&journal),
            &no_progress(),
        )
        .await
        .unwrap();
        assert_eq!(again.count("already_migrated"), pa.items.len());
    }
}
