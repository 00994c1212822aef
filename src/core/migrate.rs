//! `openclaw-vault migrate`: moves every local credential into Vault without losing any.
//!
//! Plan: ask each local source what it holds; one Vault path per name (the first source in chain
//! order wins, the others are reported as shadowed). Apply: create-only writes (cas 0), read back
//! and compare every write, a journal line per verified item. A different existing value is a
//! conflict, never overwritten without `overwrite`. Killed at any point and run again, it skips
//! what the journal or Vault already holds and duplicates nothing: a write whose journal line was
//! lost meets the cas check, finds the identical value, and is counted as done.

use std::collections::{BTreeMap, HashMap};
use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::chain::CredentialChain;
use super::credential::{Credential, CredentialKind, SourceGroup};
use super::error::{ErrorCode, Result, VaultError};
use super::providers::vault::VaultProvider;
use super::secret::SecretData;

/// One credential to move.
#[derive(Debug, Clone)]
pub struct PlanItem {
    pub name: String,
    pub kind: CredentialKind,
    pub source_provider: &'static str,
    pub source_location: String,
    /// Vault path under the mount (`openclaw/credentials/<name>`).
    pub vault_path: String,
    /// Secret field names (never values).
    pub fields: Vec<String>,
    /// Bytes of the data written to Vault.
    pub size: usize,
    /// First 16 hex digits of the SHA-256 of the canonical data: compares values without them.
    pub fingerprint: String,
    /// Other sources holding the same name: `(provider, location, same value?)`.
    pub shadowed: Vec<(&'static str, String, bool)>,
    credential: Credential,
}

/// What `plan` found.
#[derive(Debug, Default)]
pub struct Plan {
    pub items: Vec<PlanItem>,
    /// Sources that could not be read (malformed files, ...): reported, not migrated.
    pub source_errors: Vec<(&'static str, VaultError)>,
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
    /// Vault holds a different value; left alone.
    Conflict { existing_fingerprint: String },
    /// Replaced a different value (`overwrite`), verified.
    Overwritten { version: u64 },
    /// The source changed during the run; the newest value was written and verified.
    UpdatedDuringRun { version: u64, fingerprint: String },
    /// Not migrated; the error says why.
    Failed { code: &'static str, message: String },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Created { .. } => "created",
            Outcome::AlreadyPresent => "already_present",
            Outcome::AlreadyMigrated => "already_migrated",
            Outcome::Conflict { .. } => "conflict",
            Outcome::Overwritten { .. } => "overwritten",
            Outcome::UpdatedDuringRun { .. } => "updated_during_run",
            Outcome::Failed { .. } => "failed",
        }
    }

    /// True when Vault now holds the source's value.
    pub fn is_in_vault(&self) -> bool {
        !matches!(self, Outcome::Conflict { .. } | Outcome::Failed { .. })
    }
}

/// Options of `apply`.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    pub overwrite: bool,
    pub journal: PathBuf,
    /// Parallel Vault requests.
    pub concurrency: usize,
    /// Test hook: abort the process at this checkpoint (write, verify, journal of each item).
    pub abort_after: Option<u64>,
}

/// The result of `apply`.
#[derive(Debug, Default)]
pub struct Report {
    pub items: Vec<(PlanItem, Outcome)>,
}

impl Report {
    pub fn count(&self, label: &str) -> usize {
        self.items
            .iter()
            .filter(|(_, o)| o.label() == label)
            .count()
    }

    /// Conflicts and failures.
    pub fn problems(&self) -> usize {
        self.items.iter().filter(|(_, o)| !o.is_in_vault()).count()
    }
}

/// SHA-256 of the canonical JSON (keys sorted at every depth), first 16 hex digits.
pub fn fingerprint(data: &Map<String, Value>) -> String {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let sorted: BTreeMap<&String, Value> =
                    m.iter().map(|(k, v)| (k, canonical(v))).collect();
                Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let bytes = zeroize::Zeroizing::new(
        serde_json::to_vec(&canonical(&Value::Object(data.clone()))).unwrap_or_default(),
    );
    let digest = Sha256::digest(&bytes[..]);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn require_vault(chain: &CredentialChain) -> Result<&Arc<VaultProvider>> {
    chain.vault().ok_or_else(|| {
        VaultError::invalid_config(
            "no Vault is configured to migrate into: set VAULT_ADDR (and VAULT_TOKEN or an auth method), or credentials.provider \"vault\" with credentials.vault.addr",
        )
    })
}

/// Asks every local source what it holds and builds the plan. Nothing is written.
pub async fn plan(chain: &CredentialChain) -> Result<Plan> {
    let vault = require_vault(chain)?;
    let mut plan = Plan::default();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let local = chain
        .providers()
        .iter()
        .filter(|p| p.group() != SourceGroup::Vault);
    // Chain order: keychain, files, env (the groups `getCredential` asks after Vault).
    let mut local: Vec<_> = local.collect();
    local.sort_by_key(|p| {
        chain
            .settings()
            .order
            .iter()
            .position(|g| *g == p.group())
            .unwrap_or(usize::MAX)
    });
    for provider in local {
        let listings = match provider.list().await {
            Ok(l) => l,
            Err(e) => {
                plan.source_errors.push((provider.id(), e));
                continue;
            }
        };
        for listing in listings {
            let credential = match provider.get(&listing.name).await {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    plan.source_errors.push((provider.id(), e));
                    continue;
                }
            };
            let data = credential.to_vault_data();
            let fp = fingerprint(&data);
            if let Some(&i) = by_name.get(&listing.name) {
                let same = plan.items[i].fingerprint == fp;
                plan.items[i].shadowed.push((
                    provider.id(),
                    credential.source.location.clone(),
                    same,
                ));
                continue;
            }
            let vault_path = vault.path_of(&listing.name)?;
            let size = serde_json::to_vec(&data).map(|b| b.len()).unwrap_or(0);
            by_name.insert(listing.name.clone(), plan.items.len());
            plan.items.push(PlanItem {
                name: listing.name.clone(),
                kind: credential.kind,
                source_provider: provider.id(),
                source_location: credential.source.location.clone(),
                vault_path: format!("{}/{vault_path}", vault.client().mount()),
                fields: credential.secrets.names().map(str::to_string).collect(),
                size,
                fingerprint: fp,
                shadowed: Vec::new(),
                credential,
            });
        }
    }
    plan.items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(plan)
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
}

const JOURNAL_KIND: &str = "openclaw-vault-migrate";

/// The journal: one header line, then one line per finished item. Appended with one `write`
/// per line; a torn last line (killed mid-write) is ignored.
struct Journal {
    file: Mutex<std::fs::File>,
    done: HashMap<String, String>,
}

impl Journal {
    fn open(path: &Path, header: JournalHeader) -> Result<Journal> {
        let bad = |line: usize, what: &str| {
            VaultError::new(
                ErrorCode::InvalidSource,
                format!(
                    "migration journal {} line {line}: {what}; move it away (or delete it) to start over, nothing in Vault is lost",
                    path.display()
                ),
            )
        };
        let mut done = HashMap::new();
        let mut fresh = true;
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let lines: Vec<&str> = text.lines().collect();
                let complete = text.ends_with('\n');
                for (i, line) in lines.iter().enumerate() {
                    let last = i + 1 == lines.len();
                    if i == 0 {
                        let h: JournalHeader = serde_json::from_str(line)
                            .map_err(|_| bad(1, "is not a migration journal header"))?;
                        if h.journal != JOURNAL_KIND {
                            return Err(bad(1, "is not a migration journal header"));
                        }
                        if h.vault != header.vault
                            || h.mount != header.mount
                            || h.prefix != header.prefix
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
        // A journal left with a torn line: start the next entry on a new line.
        if let Ok(text) = std::fs::read(path) {
            if !text.is_empty() && !text.ends_with(b"\n") {
                let _ = file.write_all(b"\n");
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
            VaultError::new(
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
    pub done: usize,
    pub total: usize,
    pub name: &'a str,
    pub outcome: &'a Outcome,
}

struct Checkpoints {
    passed: AtomicU64,
    abort_after: Option<u64>,
}

impl Checkpoints {
    fn pass(&self) {
        let n = self.passed.fetch_add(1, Ordering::SeqCst) + 1;
        if self.abort_after == Some(n) {
            // The test hook: die here as a SIGKILL would, with no cleanup at all.
            std::process::abort();
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
    let journal = Journal::open(
        &options.journal,
        JournalHeader {
            journal: JOURNAL_KIND.into(),
            version: 1,
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
        abort_after: options.abort_after,
    };
    let done_count = AtomicU64::new(0);
    let total = plan.items.len();
    let results: Vec<(usize, Outcome)> = stream::iter(plan.items.iter().enumerate())
        .map(|(i, item)| {
            let vault = vault.clone();
            let journal = &journal;
            let checkpoints = &checkpoints;
            async move {
                let outcome = if journal.done.get(&item.name) == Some(&item.fingerprint) {
                    Outcome::AlreadyMigrated
                } else {
                    match migrate_one(chain, &vault, item, options.overwrite, checkpoints).await {
                        Ok(o) => o,
                        Err(e) => Outcome::Failed {
                            code: e.code(),
                            message: e.message,
                        },
                    }
                };
                if !matches!(outcome, Outcome::AlreadyMigrated) {
                    let line = JournalLine {
                        name: item.name.clone(),
                        fingerprint: match &outcome {
                            Outcome::UpdatedDuringRun { fingerprint, .. } => fingerprint.clone(),
                            _ => item.fingerprint.clone(),
                        },
                        outcome: outcome.label().into(),
                        version: match &outcome {
                            Outcome::Created { version }
                            | Outcome::Overwritten { version }
                            | Outcome::UpdatedDuringRun { version, .. } => Some(*version),
                            _ => None,
                        },
                    };
                    if let Err(e) = journal.append(&line) {
                        tracing::warn!(error = %e.message, "journal entry not written; a rerun checks Vault instead");
                    }
                    checkpoints.pass();
                }
                (i, outcome)
            }
        })
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
            .collect(),
    })
}

async fn migrate_one(
    chain: &CredentialChain,
    vault: &VaultProvider,
    item: &PlanItem,
    overwrite: bool,
    checkpoints: &Checkpoints,
) -> Result<Outcome> {
    let client = vault.client();
    let path = vault.path_of(&item.name)?;
    let data = item.credential.to_vault_data();
    let (mut version, mut outcome) = match client
        .write(&path, &SecretData::from_object(data.clone()), Some(0))
        .await
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
                        .and_then(|d| d.expose_secret().as_object().map(fingerprint))
                        .unwrap_or_default(),
                    s.metadata.as_ref().map(|m| m.version).unwrap_or(0),
                ),
                None => (String::new(), 0),
            };
            if existing_fp == item.fingerprint {
                return Ok(Outcome::AlreadyPresent);
            }
            if !overwrite {
                return Ok(Outcome::Conflict {
                    existing_fingerprint: existing_fp,
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
            (v, Outcome::Overwritten { version: v })
        }
        // KV v1 has no cas: write only where nothing is.
        Err(e) if e.code == ErrorCode::UnsupportedOperation => {
            if let Some(s) = client.read(&path, None).await? {
                let fp = s
                    .data
                    .as_ref()
                    .and_then(|d| d.expose_secret().as_object().map(fingerprint))
                    .unwrap_or_default();
                if fp == item.fingerprint {
                    return Ok(Outcome::AlreadyPresent);
                }
                if !overwrite {
                    return Ok(Outcome::Conflict {
                        existing_fingerprint: fp,
                    });
                }
            }
            client
                .write(&path, &SecretData::from_object(data.clone()), None)
                .await?;
            (0, Outcome::Created { version: 0 })
        }
        Err(e) => return Err(e),
    };
    checkpoints.pass();
    verify(client, &path, &item.fingerprint).await?;
    checkpoints.pass();

    // The source may have changed while this ran (a CLI refreshed its token): write the newest.
    let provider = chain
        .providers()
        .iter()
        .find(|p| p.id() == item.source_provider);
    if let Some(provider) = provider {
        if let Some(now) = provider.get(&item.name).await? {
            let now_data = now.to_vault_data();
            let now_fp = fingerprint(&now_data);
            if now_fp != item.fingerprint {
                let cas = (version > 0).then_some(version);
                let meta = client
                    .write(&path, &SecretData::from_object(now_data), cas)
                    .await?;
                version = meta.map(|m| m.version).unwrap_or(0);
                verify(client, &path, &now_fp).await?;
                outcome = Outcome::UpdatedDuringRun {
                    version,
                    fingerprint: now_fp,
                };
            }
        }
    }
    Ok(outcome)
}

async fn verify(client: &super::VaultClient, path: &str, expected: &str) -> Result<()> {
    let back = client.read(path, None).await?;
    let fp = back
        .as_ref()
        .and_then(|s| s.data.as_ref())
        .and_then(|d| d.expose_secret().as_object().map(fingerprint))
        .unwrap_or_default();
    if fp != expected {
        return Err(VaultError::new(
            ErrorCode::Conflict,
            format!(
                "read-back of {path} does not match what was written (fingerprint {fp} instead of {expected}); another writer changed it"
            ),
        ));
    }
    Ok(())
}
