//! The backups of `openclaw.json` that still hold plaintext of secrets now in Vault.
//!
//! OpenClaw's `secrets apply` keeps rotating rollback copies of the config it rewrites
//! (`openclaw.json.bak`, `.bak.1` ... `.bak.4`), and `--rewrite-config-json5` keeps its own
//! `openclaw.json.bak-<time>`: each still holds the plaintext the rewrite replaced by a ref, and
//! OpenClaw's `secrets audit` does not scan them. [`plaintext_backups`] finds those holding a
//! plaintext value at a path the current config points at Vault (so the value was migrated);
//! [`check_against_vault`] marks each one whose plaintext is not all byte-identical to a value
//! in Vault now (a secret deleted from Vault after the rewrite, or changed in the config just
//! before it: the backup may be its last copy); [`remove_backups`] deletes only the others.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, ErrorCode, Result};
use crate::local_file::read_credential_file;
use crate::openclaw::config::parse_json5;
use crate::openclaw::paths::OpenClawPaths;
use crate::providers::openclaw_config::plaintext_fields;

/// One backup of `openclaw.json` holding migrated plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaintextBackup {
    /// The backup file (next to `openclaw.json`).
    pub file: PathBuf,
    /// The JSON paths where it holds plaintext the current config keeps in Vault (never the
    /// values), sorted.
    pub json_paths: Vec<String>,
    /// The JSON paths whose plaintext in this backup is not byte-identical to a value in Vault
    /// now (nor to the current config's plaintext at the same path), sorted: the backup may be
    /// the last copy of those secrets, so it is never deleted. Filled by
    /// [`check_against_vault`]; until then it holds every path of [`Self::json_paths`]
    /// (nothing is deleted without a check).
    pub not_in_vault: Vec<String>,
}

impl PlaintextBackup {
    /// True when every plaintext secret in the backup is also in Vault (or still in the config),
    /// so deleting the file loses nothing.
    pub fn is_removable(&self) -> bool {
        self.not_in_vault.is_empty()
    }
}

/// Every `<config>.bak*` file next to the config (OpenClaw's `openclaw.json.bak`, `.bak.<n>`,
/// this package's `.bak-<time>`) that holds plaintext at a JSON path where the current config
/// holds an exec ref to this package's provider. Sorted by file name. A backup that cannot be
/// read or parsed is not listed (it cannot be judged; nothing is deleted without a judgement).
pub fn plaintext_backups(paths: &OpenClawPaths) -> Result<Vec<PlaintextBackup>> {
    let Some(config) = paths.config_file().filter(|f| f.exists()) else {
        return Ok(Vec::new());
    };
    let Some(file) = read_credential_file(&config, crate::openclaw::MAX_CONFIG_FILE_BYTES)? else {
        return Ok(Vec::new());
    };
    let doc = parse_json5(&file)?;
    let mut refs = Vec::new();
    super::own_refs::walk(&doc, &mut Vec::new(), &mut refs);
    if refs.is_empty() {
        return Ok(Vec::new());
    }
    let (Some(dir), Some(name)) = (config.parent(), config.file_name().and_then(|n| n.to_str()))
    else {
        return Ok(Vec::new());
    };
    let prefix = format!("{name}.bak");
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: cannot be listed ({})", dir.display(), e.kind()),
        )
    })?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let n = entry.file_name();
        let Some(n) = n.to_str() else { continue };
        if !n.starts_with(&prefix) || !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(Some(text)) = read_credential_file(&path, crate::openclaw::MAX_CONFIG_FILE_BYTES)
        else {
            continue;
        };
        let Ok(backup) = parse_json5(&text) else {
            continue;
        };
        let mut json_paths: Vec<String> = plaintext_fields(&backup)
            .into_iter()
            .map(|f| f.dotted())
            .filter(|p| refs.iter().any(|(r, _)| r == p))
            .collect();
        json_paths.sort();
        json_paths.dedup();
        if !json_paths.is_empty() {
            out.push(PlaintextBackup {
                file: path,
                not_in_vault: json_paths.clone(),
                json_paths,
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// Fills [`PlaintextBackup::not_in_vault`] of each backup: every plaintext secret field of the
/// backup (any path OpenClaw reads a secret at, not only the migrated ones) must be
/// byte-identical to the value of one of the current config's refs to this package's provider
/// as Vault holds it now (one KV read per ref: `GET <mount>/data/<path>`), or to the current
/// config's plaintext at the same path. Without Vault, or when a ref cannot be read, nothing
/// counts as in Vault. A backup that can no longer be read keeps every path listed.
pub async fn check_against_vault(
    paths: &OpenClawPaths,
    chain: &crate::chain::CredentialChain,
    backups: &mut [PlaintextBackup],
) -> Result<()> {
    if backups.is_empty() {
        return Ok(());
    }
    let Some(config) = paths.config_file().filter(|f| f.exists()) else {
        return Ok(());
    };
    let Some(file) = read_credential_file(&config, crate::openclaw::MAX_CONFIG_FILE_BYTES)? else {
        return Ok(());
    };
    let current = parse_json5(&file)?;
    let mut refs = Vec::new();
    super::own_refs::walk(&current, &mut Vec::new(), &mut refs);
    // The secrets the refs read now (wiped on drop), each with the ref's field.
    let mut in_vault: Vec<(vault_client::secret::SecretData, String)> = Vec::new();
    if let Some(vault) = chain.vault() {
        let client = vault.client();
        for (_, id) in &refs {
            let Ok(sid) = crate::resolve::SecretId::parse(id) else {
                continue;
            };
            if let Ok(Some(secret)) = client.read(&sid.path, None).await {
                if let Some(data) = secret.data {
                    in_vault.push((data, sid.field));
                }
            }
        }
    }
    // Older versions count too (a value rotated in Vault, or superseded by a newer value written
    // after a change before OpenClaw's apply): read only when some plaintext matches no current
    // value, once per ref.
    let mut histories: Option<Vec<History>> = None;
    for b in backups.iter_mut() {
        let Ok(Some(text)) = read_credential_file(&b.file, crate::openclaw::MAX_CONFIG_FILE_BYTES)
        else {
            continue;
        };
        let Ok(backup) = parse_json5(&text) else {
            continue;
        };
        let Ok(backup) = vault_client::secret::SecretData::try_from_value(backup, "a backup")
        else {
            continue;
        };
        let doc = backup.expose_secret();
        let candidates: Vec<_> = plaintext_fields(doc)
            .into_iter()
            .filter(|f| {
                let Some(value) = value_at(doc, &f.json_path).filter(|v| v.is_string()) else {
                    return false;
                };
                let still_in_config = value_at(&current, &f.json_path) == Some(value);
                let in_vault = in_vault
                    .iter()
                    .any(|(d, field)| d.expose_secret().get(field) == Some(value));
                !still_in_config && !in_vault
            })
            .collect();
        if !candidates.is_empty() && histories.is_none() {
            histories = Some(match chain.vault() {
                Some(vault) => histories_of(vault.client(), &refs).await,
                None => Vec::new(),
            });
        }
        let held_before = |value: &str| {
            histories
                .iter()
                .flatten()
                .any(|h| h.values.iter().any(|v| v.as_str() == value))
        };
        let mut missing: Vec<String> = candidates
            .into_iter()
            .filter(|f| {
                value_at(doc, &f.json_path)
                    .and_then(|v| v.as_str())
                    .is_none_or(|v| !held_before(v))
            })
            .map(|f| f.dotted())
            .collect();
        missing.sort();
        missing.dedup();
        b.not_in_vault = missing;
    }
    Ok(())
}

/// What the kept versions of one ref's Vault path held in the ref's field (wiped on drop).
struct History {
    /// The ref's Vault path (relative to the mount) and field.
    path: String,
    field: String,
    /// The field's value in every version that is neither deleted nor destroyed, oldest first.
    values: Vec<zeroize::Zeroizing<String>>,
    /// Every version from 1 to the current one is kept and readable: a value in none of them was
    /// never written there.
    complete: bool,
    /// When the newest version was written (Vault's clock); `None` when unknown.
    newest: Option<std::time::SystemTime>,
}

/// The [`History`] of each ref's path (KV v2 metadata, then `GET <mount>/data/<path>?version=N`
/// per version). A ref whose metadata cannot be read gets an empty, incomplete history.
async fn histories_of(
    client: &vault_client::VaultClient,
    refs: &[(String, String)],
) -> Vec<History> {
    let mut out = Vec::new();
    for (_, id) in refs {
        let Ok(sid) = crate::resolve::SecretId::parse(id) else {
            continue;
        };
        if out
            .iter()
            .any(|h: &History| h.path == sid.path && h.field == sid.field)
        {
            continue;
        }
        let mut history = History {
            path: sid.path.clone(),
            field: sid.field.clone(),
            values: Vec::new(),
            complete: false,
            newest: None,
        };
        if let Ok(Some(meta)) = client.read_metadata(&sid.path).await {
            let mut complete = meta.current_version > 0;
            for version in 1..=meta.current_version {
                let state = meta.versions.get(&version.to_string());
                let live = state.is_some_and(|v| v.deletion_time.is_empty() && !v.destroyed);
                if !live {
                    complete = false;
                    continue;
                }
                match client.read(&sid.path, Some(version)).await {
                    Ok(Some(secret)) => {
                        if let Some(value) = secret.data.as_ref().and_then(|d| {
                            d.expose_secret()
                                .get(&sid.field)
                                .and_then(|v| v.as_str().map(str::to_string))
                        }) {
                            history.values.push(zeroize::Zeroizing::new(value));
                        }
                    }
                    _ => complete = false,
                }
            }
            history.complete = complete;
            history.newest = meta
                .versions
                .get(&meta.current_version.to_string())
                .and_then(|v| humantime::parse_rfc3339_weak(&v.created_time).ok());
        }
        out.push(history);
    }
    out
}

/// `<stateDir>/vault-migrate.apply-pending`: written (0600, atomically) just before `migrate`
/// runs `openclaw secrets apply`, removed once the run has checked the backup that apply wrote
/// ([`clear_apply_pending`]). Only a run that died in between leaves it, and only then does a
/// later run look in `openclaw.json.bak` for a value changed before that apply
/// ([`unwritten_before_apply`]): a backup OpenClaw rotated for any other reason (a `config set`
/// later undone) says nothing about this package's writes. `None` without a state directory.
pub fn apply_pending_marker(paths: &OpenClawPaths) -> Option<PathBuf> {
    paths
        .state_dir
        .as_ref()
        .map(|d| d.join("vault-migrate.apply-pending"))
}

/// When the run that left the marker started OpenClaw's apply: its `startedAtMs`, else the
/// file's modification time. `None` when there is no marker.
fn marker_started(marker: &Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(marker).ok()?;
    let from_body = std::fs::read_to_string(marker)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("startedAtMs").and_then(serde_json::Value::as_u64))
        .map(|ms| std::time::UNIX_EPOCH + Duration::from_millis(ms));
    from_body.or_else(|| meta.modified().ok())
}

/// Writes the [`apply_pending_marker`] (the time, epoch milliseconds, inside).
pub fn mark_apply_pending(paths: &OpenClawPaths) -> Result<()> {
    let Some(marker) = apply_pending_marker(paths) else {
        return Ok(());
    };
    let body = format!("{{\"startedAtMs\":{}}}\n", crate::time::now_ms());
    crate::local_file::write_atomic(&marker, body.as_bytes())
}

/// Removes the [`apply_pending_marker`]; a missing one is fine.
pub fn clear_apply_pending(paths: &OpenClawPaths) {
    if let Some(marker) = apply_pending_marker(paths) {
        let _ = std::fs::remove_file(marker);
    }
}

/// The values the newest backup, `<config>.bak` (OpenClaw's apply writes it just before it
/// writes the refs), holds at a JSON path where the config now holds a ref to this package's
/// provider, and that no version of the ref's Vault path ever held: a value changed between a
/// run's Vault write and OpenClaw's apply, in a run that died before writing it to Vault
/// (attack 7, finding 1). `migrate` writes each as a new version. Left out: a path with a
/// deleted, destroyed or unreadable version (the value may be one of those); a path whose newest
/// version was written after the backup (by Vault's clock against the file's time: a rotation
/// in Vault is newer than the backup); placeholders and empty values. Reads: the config, the backup, KV v2 metadata and versions.
///
/// Errors: the config or an existing backup that cannot be read (`INVALID_SOURCE` for a link,
/// a non-regular or oversized file; `SOURCE_UNAVAILABLE`) or parsed (`INVALID_CONFIG`, scrubbed).
pub async fn unwritten_before_apply(
    paths: &OpenClawPaths,
    chain: &crate::chain::CredentialChain,
) -> Result<Vec<super::safety::ChangedBeforeApply>> {
    let Some(vault) = chain.vault() else {
        return Ok(Vec::new());
    };
    let Some(started) = apply_pending_marker(paths).and_then(|m| marker_started(&m)) else {
        return Ok(Vec::new());
    };
    let Some(config) = paths.config_file().filter(|f| f.exists()) else {
        return Ok(Vec::new());
    };
    let Some(file) = read_credential_file(&config, crate::openclaw::MAX_CONFIG_FILE_BYTES)? else {
        return Ok(Vec::new());
    };
    let current = parse_json5(&file)?;
    let mut refs = Vec::new();
    super::own_refs::walk(&current, &mut Vec::new(), &mut refs);
    let Some(name) = config.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    // The backup that died run's apply wrote: the newest of OpenClaw's rotating copies written
    // while that apply could have run (from the marker to the apply's deadline). One written
    // later (a value set by hand, then pointed back at Vault) is not that apply's (attack 11, G2).
    let window_end = started + super::apply_plan::OPENCLAW_CLI_DEADLINE + Duration::from_secs(30);
    let window_start = started
        .checked_sub(Duration::from_secs(2))
        .unwrap_or(started);
    let Some((bak, written)) = std::iter::once(format!("{name}.bak"))
        .chain((1..=4).map(|i| format!("{name}.bak.{i}")))
        .filter_map(|n| {
            let f = config.with_file_name(n);
            let t = std::fs::metadata(&f).and_then(|m| m.modified()).ok()?;
            (t >= window_start && t <= window_end).then_some((f, t))
        })
        .max_by_key(|(_, t)| *t)
    else {
        return Ok(Vec::new());
    };
    // A backup that exists but cannot be read or parsed may hold the newer value: an error
    // (the caller warns, naming it), never silence.
    let Some(text) = read_credential_file(&bak, crate::openclaw::MAX_CONFIG_FILE_BYTES)? else {
        return Ok(Vec::new());
    };
    let backup = parse_json5(&text)?;
    let Ok(backup) = vault_client::secret::SecretData::try_from_value(backup, "a backup") else {
        return Ok(Vec::new());
    };
    let doc = backup.expose_secret();
    let mut out = Vec::new();
    for f in plaintext_fields(doc) {
        let dotted = f.dotted();
        let Some((_, id)) = refs.iter().find(|(p, _)| *p == dotted) else {
            continue;
        };
        let Some(value) = value_at(doc, &f.json_path).and_then(|v| v.as_str()) else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || crate::placeholder::is_redaction_placeholder(value).is_some() {
            continue;
        }
        let Ok(sid) = crate::resolve::SecretId::parse(id) else {
            continue;
        };
        // Only this Vault's own paths (the prefix of this package's credentials).
        if vault.name_of_path(&sid.path).is_none() {
            continue;
        }
        let mut history = histories_of(vault.client(), &[(dotted.clone(), id.clone())]).await;
        let Some(h) = history.pop() else { continue };
        let older_than_backup = h.newest.is_some_and(|t| t < written);
        if h.complete && older_than_backup && !h.values.iter().any(|v| v.trim() == value) {
            out.push(super::safety::ChangedBeforeApply {
                path: dotted,
                vault_path: sid.path.clone(),
                field: sid.field.clone(),
                newer: secrecy::SecretString::from(value.to_string()),
            });
        }
    }
    Ok(out)
}

/// The value at `path` (object keys, array indices) of `doc`.
fn value_at<'a>(doc: &'a serde_json::Value, path: &[String]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(doc, |v, k| match v {
        serde_json::Value::Object(m) => m.get(k),
        serde_json::Value::Array(a) => a.get(k.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Deletes each removable one of `backups` (found by [`plaintext_backups`] and checked by
/// [`check_against_vault`]); one result per file deleted. A backup still holding a secret not
/// in Vault is never deleted.
pub fn remove_backups(backups: &[PlaintextBackup]) -> Vec<(PathBuf, Result<()>)> {
    backups
        .iter()
        .filter(|b| b.is_removable())
        .map(|b| {
            let r = remove(&b.file);
            (b.file.clone(), r)
        })
        .collect()
}

fn remove(file: &Path) -> Result<()> {
    match std::fs::remove_file(file) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::new(
            ErrorCode::SourceUnavailable,
            format!("{}: cannot be removed ({})", file.display(), e.kind()),
        )),
    }
}

/// An archive `openclaw doctor --fix` left of a retired credential file it imported into its
/// SQLite store: `<file>.migrated-<ISO time, ':' as '-'>-<uuid>` (and the older
/// `<file>.sqlite-import.<...>.bak`), for `credentials/oauth.json` and each agent's
/// `auth-profiles.json` / `auth.json` (the names of OpenClaw's `listLegacyAuthProfileArchives`).
/// It keeps the retired plaintext; OpenClaw's `secrets audit` does not scan it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyArchive {
    /// The archive file.
    pub file: PathBuf,
    /// How many secret values (`key`, `token`, `access`, `refresh` fields) it holds.
    pub secrets: usize,
    /// How many of them no version in Vault holds (under `<prefix>/credentials/`), byte for
    /// byte. Until [`check_archives_against_vault`] ran: all of them.
    pub not_in_vault: usize,
}

impl LegacyArchive {
    /// True when every secret it holds is in Vault: deleting it loses nothing.
    pub fn is_removable(&self) -> bool {
        self.not_in_vault == 0
    }
}

/// The retired files `openclaw doctor --fix` archives, relative to the folder they sit in.
const ARCHIVED_FILES: [&str; 2] = ["auth-profiles.json", "auth.json"];

fn is_archive_of(entry: &str, base: &str) -> bool {
    entry.strip_prefix(base).is_some_and(|rest| {
        rest.starts_with(".migrated-")
            || (rest.starts_with(".sqlite-import.") && rest.ends_with(".bak"))
    })
}

/// Every doctor archive holding at least one secret value, under the state dir
/// (`credentials/oauth.json.*`, `agents/<id>/agent/auth-profiles.json.*`, `.../auth.json.*`),
/// sorted. Archives that cannot be read or parsed are not listed (nothing is removed without a
/// judgement).
pub fn legacy_archives(paths: &OpenClawPaths) -> Vec<LegacyArchive> {
    let Some(state) = paths.state_dir.as_deref() else {
        return Vec::new();
    };
    let mut places: Vec<(PathBuf, &str)> = vec![(state.join("credentials"), "oauth.json")];
    if let Ok(agents) = std::fs::read_dir(state.join("agents")) {
        for agent in agents.flatten() {
            for base in ARCHIVED_FILES {
                places.push((agent.path().join("agent"), base));
            }
        }
    }
    let mut out = Vec::new();
    for (dir, base) in places {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !is_archive_of(name, base) || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let secrets = archive_secrets(&entry.path()).map_or(0, |s| s.len());
            if secrets > 0 {
                out.push(LegacyArchive {
                    file: entry.path(),
                    secrets,
                    not_in_vault: secrets,
                });
            }
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    out
}

/// The secret values of an archive (wiped on drop): every non-empty string at a `key`,
/// `token`, `access` or `refresh` field, at any depth. `None` when unreadable or not JSON.
fn archive_secrets(file: &Path) -> Option<Vec<zeroize::Zeroizing<String>>> {
    let text = read_credential_file(file, crate::openclaw::MAX_CONFIG_FILE_BYTES).ok()??;
    let doc = parse_json5(&text).ok()?;
    let doc = vault_client::secret::SecretData::try_from_value(doc, "an archive").ok()?;
    fn walk(v: &serde_json::Value, out: &mut Vec<zeroize::Zeroizing<String>>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match v.as_str() {
                        Some(s)
                            if matches!(k.as_str(), "key" | "token" | "access" | "refresh")
                                && !s.trim().is_empty() =>
                        {
                            out.push(zeroize::Zeroizing::new(s.to_string()))
                        }
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(doc.expose_secret(), &mut out);
    Some(out)
}

/// Fills [`LegacyArchive::not_in_vault`]: a secret counts as held when some live version of
/// some secret under `<prefix>/credentials/` (`LIST`, then `GET .../metadata` and `GET
/// .../data?version=N` per key) holds it as a string field, byte for byte. Without Vault, or
/// when Vault cannot be listed, nothing is held.
pub async fn check_archives_against_vault(
    chain: &crate::chain::CredentialChain,
    archives: &mut [LegacyArchive],
) {
    if archives.is_empty() {
        return;
    }
    let Some(vault) = chain.vault() else { return };
    let client = vault.client();
    let folder = format!("{}/credentials", vault.prefix());
    let mut held: Vec<zeroize::Zeroizing<String>> = Vec::new();
    if let Ok(keys) = client.list(&folder).await {
        for key in keys.iter().filter(|k| !k.ends_with('/')) {
            let path = format!("{folder}/{key}");
            let Ok(Some(meta)) = client.read_metadata(&path).await else {
                continue;
            };
            for version in 1..=meta.current_version {
                let live = meta
                    .versions
                    .get(&version.to_string())
                    .is_some_and(|v| v.deletion_time.is_empty() && !v.destroyed);
                if !live {
                    continue;
                }
                if let Ok(Some(secret)) = client.read(&path, Some(version)).await {
                    if let Some(data) = secret.data {
                        if let serde_json::Value::Object(map) = data.expose_secret() {
                            held.extend(
                                map.values()
                                    .filter_map(|v| v.as_str())
                                    .map(|s| zeroize::Zeroizing::new(s.to_string())),
                            );
                        }
                    }
                }
            }
        }
    }
    for a in archives.iter_mut() {
        let Some(secrets) = archive_secrets(&a.file) else {
            continue;
        };
        a.secrets = secrets.len();
        a.not_in_vault = secrets
            .iter()
            .filter(|s| !held.iter().any(|h| h.as_str() == s.as_str()))
            .count();
    }
}

/// Deletes the archives whose every secret is in Vault ([`LegacyArchive::is_removable`]);
/// the others are kept. One result per deleted file.
pub fn remove_archives(archives: &[LegacyArchive]) -> Vec<(PathBuf, Result<()>)> {
    archives
        .iter()
        .filter(|a| a.is_removable())
        .map(|a| (a.file.clone(), remove(&a.file)))
        .collect()
}
