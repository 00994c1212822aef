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
        let mut missing: Vec<String> = plaintext_fields(doc)
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
            .map(|f| f.dotted())
            .collect();
        missing.sort();
        missing.dedup();
        b.not_in_vault = missing;
    }
    Ok(())
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
